"""``sub`` is idp's now (idp.Subject, filled from this column by idp's 0008_subjects): the column goes.

The people's content type moves with the model, so permissions granted on idp's users (a help desk
allowed to change users, say) are kept as permissions on these.
"""

from django.db import migrations


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label="accounts", model="user").exists():
        ContentType.objects.using(db).filter(app_label="idp", model="user").update(app_label="accounts")


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label="idp", model="user").exists():
        ContentType.objects.using(db).filter(app_label="accounts", model="user").update(app_label="idp")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('idp', '0008_subjects'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='user',
            name='sub',
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
