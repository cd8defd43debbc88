"""People in the admin: privileges granted by superusers only, privilege changes and deletions audited."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from idp.models import Application, AuditEvent
from project.accounts.models import User
from tests.conftest import admin_form_data
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db


def signed_in(person) -> Client:
    browser = Client()
    browser.force_login(person)
    return browser


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def helpdesk(db):
    """Staff who may view and change people (e.g. fix a name or an email), nothing more."""
    person = UserFactory(username="helpdesk", is_staff=True)
    person.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="accounts", codename__in=["view_user", "change_user"]
        )
    )
    return person


def change_url(person) -> str:
    return f"/admin/accounts/user/{person.pk}/change/"


def test_staff_with_change_user_cannot_make_themselves_superuser(helpdesk):
    browser = signed_in(helpdesk)
    page = browser.get(change_url(helpdesk))
    assert page.status_code == 200
    everything = list(Permission.objects.values_list("pk", flat=True))
    data = admin_form_data(page, first_name="Helpful")
    data.update(is_superuser="on", is_staff="on", user_permissions=everything)
    response = browser.post(change_url(helpdesk), data)
    assert response.status_code == 302
    helpdesk.refresh_from_db()
    assert helpdesk.first_name == "Helpful"  # the other fields are still theirs to change
    assert not helpdesk.is_superuser
    assert set(helpdesk.user_permissions.values_list("codename", flat=True)) == {"view_user", "change_user"}
    assert not AuditEvent.objects.filter(event="user_privileges_changed").exists()


def test_staff_with_change_user_cannot_make_others_staff_or_add_groups(helpdesk, user):
    admins = Group.objects.create(name="admins")
    browser = signed_in(helpdesk)
    data = admin_form_data(browser.get(change_url(user)))
    data.update(is_staff="on", is_superuser="on", groups=[admins.pk])
    assert browser.post(change_url(user), data).status_code == 302
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser, list(user.groups.all())) == (False, False, [])


def test_staff_cannot_change_or_delete_a_superuser(helpdesk, superuser):
    helpdesk.user_permissions.add(Permission.objects.get(codename="delete_user"))
    browser = signed_in(helpdesk)
    assert browser.get(f"/admin/accounts/user/{superuser.pk}/password/").status_code == 403
    response = browser.post(
        f"/admin/accounts/user/{superuser.pk}/password/",
        {
            "password1": "taken over at last 123",
            "password2": "taken over at last 123",
            "usable_password": "true",
        },
    )
    assert response.status_code == 403
    assert browser.post(f"/admin/accounts/user/{superuser.pk}/delete/", {"post": "yes"}).status_code == 403
    superuser.refresh_from_db()
    assert not superuser.check_password("taken over at last 123")


def test_a_superuser_granting_privileges_is_recorded(superuser, user):
    admins = Group.objects.create(name="admins")
    browser = signed_in(superuser)
    data = admin_form_data(browser.get(change_url(user)), is_staff=True, groups=[admins.pk])
    assert browser.post(change_url(user), data).status_code == 302
    user.refresh_from_db()
    assert user.is_staff and list(user.groups.all()) == [admins]
    (event,) = AuditEvent.objects.filter(event="user_privileges_changed")
    assert event.actor_name == "root"
    assert event.details == {
        "user": "alice", "fields": ["is_staff", "groups"], "is_staff": True, "is_superuser": False,
        "groups": ["admins"], "permissions": [],
    }  # fmt: skip


def test_deleting_a_person_in_the_admin_is_recorded(superuser, user):
    browser = signed_in(superuser)
    assert browser.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not User.objects.filter(username="alice").exists()
    (event,) = AuditEvent.objects.filter(event="user_deleted")
    assert (event.actor_name, event.details) == ("root", {"user": "alice"})


def test_deleting_a_client_in_the_admin_is_recorded(superuser):
    client = ApplicationFactory(client_id="doomed", name="Doomed")
    browser = signed_in(superuser)
    response = browser.post(
        "/admin/idp/application/",
        {"action": "delete_selected", "_selected_action": [client.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Application.objects.filter(client_id="doomed").exists()
    (event,) = AuditEvent.objects.filter(event="client_deleted")
    assert (event.actor_name, event.client_identifier, event.client) == ("root", "doomed", None)
    assert event.details == {"name": "Doomed", "kind": "web"}


def test_staff_with_change_user_cannot_take_over_other_staff(helpdesk):
    ops = UserFactory(username="ops", is_staff=True, email="ops@example.com")
    powerful = Group.objects.create(name="operators")
    powerful.permissions.set(Permission.objects.all())
    ops.groups.add(powerful)
    browser = signed_in(helpdesk)
    response = browser.post(
        f"/admin/accounts/user/{ops.pk}/password/",
        {
            "password1": "taken over at last 123",
            "password2": "taken over at last 123",
            "usable_password": "true",
        },
    )
    assert response.status_code == 403
    data = admin_form_data(browser.get(change_url(ops)))
    browser.post(change_url(ops), {**data, "email": "attacker@evil.example"})
    ops.refresh_from_db()
    assert (ops.email, ops.check_password("taken over at last 123")) == ("ops@example.com", False)
    # Their own account's ordinary fields stay theirs to edit; people who are not staff stay editable.
    own = admin_form_data(browser.get(change_url(helpdesk)))
    assert browser.post(change_url(helpdesk), {**own, "first_name": "Help"}).status_code == 302
    helpdesk.refresh_from_db()
    assert helpdesk.first_name == "Help"


def test_staff_with_change_group_cannot_grant_their_group_permissions(helpdesk):
    own = Group.objects.create(name="helpdesk")
    own.permissions.set(
        Permission.objects.filter(codename__in=["view_group", "change_group", "add_group", "view_user"])
    )
    helpdesk.groups.add(own)
    browser = signed_in(helpdesk)
    everything = [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]
    response = browser.post(
        f"/admin/auth/group/{own.pk}/change/", {"name": "helpdesk", "permissions": everything}
    )
    assert response.status_code == 403
    assert browser.post("/admin/auth/group/add/", {"name": "x", "permissions": everything}).status_code == 403
    assert own.permissions.count() == 4
    assert not Group.objects.filter(name="x").exists()


def test_a_superuser_changing_a_groups_permissions_is_recorded(superuser):
    group = Group.objects.create(name="auditors")
    view_audit = Permission.objects.get(codename="view_auditevent")
    response = signed_in(superuser).post(
        f"/admin/auth/group/{group.pk}/change/", {"name": "auditors", "permissions": [str(view_audit.pk)]}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(event="group_permissions_changed")
    assert event.actor == superuser
    assert event.details["group"] == "auditors"
    assert event.details["permissions"] == ["idp.view_auditevent"]
