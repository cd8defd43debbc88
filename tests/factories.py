"""factory-boy factories for people and clients (secrets are hashed on save: use CLIENT_SECRET)."""

import factory
from django.conf import settings
from oauth2_provider.models import get_application_model

CLIENT_SECRET = "a-test-client-secret-that-is-long-and-random-enough-0123456789"
PASSWORD = "a-test-password-for-people"


class UserFactory(factory.django.DjangoModelFactory):
    """A person of this repository's own user model (``accounts.User``: username and profile)."""

    class Meta:
        model = settings.AUTH_USER_MODEL
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    email_verified = True
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    password = factory.django.Password(PASSWORD)


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A confidential web client using the authorization code grant."""

    class Meta:
        model = get_application_model()

    client_id = factory.Sequence(lambda n: f"client-{n}")
    name = factory.Sequence(lambda n: f"Client {n}")
    kind = "web"
    client_type = "confidential"
    authorization_grant_type = "authorization-code"
    client_secret = CLIENT_SECRET
    redirect_uris = "https://rp.example.com/callback http://127.0.0.1:8765/callback"
    post_logout_redirect_uris = "https://rp.example.com/logged-out"


class PublicClientFactory(ApplicationFactory):
    kind = "spa"
    client_type = "public"
    client_secret = ""


class ServiceClientFactory(ApplicationFactory):
    kind = "service"
    authorization_grant_type = "client-credentials"
    redirect_uris = ""
    post_logout_redirect_uris = ""
