"""idp has no user model: the site's AUTH_USER_MODEL is used as it is.

``idp.User`` leaves the migration state. Its table stays where a site's user model took it over
(this repository's ``accounts.User`` keeps the table idp_user); anywhere else it was never used (the
site has its own users) and is dropped.
"""

from django.conf import settings
from django.db import migrations


def drop_unused_user_table(apps, schema_editor):
    User = apps.get_model("idp", "User")
    site_user = apps.get_model(settings.AUTH_USER_MODEL)
    if site_user._meta.db_table != User._meta.db_table:
        schema_editor.delete_model(User)


class Migration(migrations.Migration):

    dependencies = [
        ('idp', '0008_subjects'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_unused_user_table, migrations.RunPython.noop)],
            state_operations=[migrations.DeleteModel(name='User')],
        ),
    ]
