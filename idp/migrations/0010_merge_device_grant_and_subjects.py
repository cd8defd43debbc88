"""The device grant (0008_device_grant) and the user model's move (0008_subjects, 0009) were made side
by side; a database may have either applied first."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("idp", "0008_device_grant"),
        ("idp", "0009_user_model_leaves_idp"),
    ]

    operations = []
