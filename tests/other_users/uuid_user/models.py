"""A site's user model whose primary key is a UUID."""

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class UuidUser(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
