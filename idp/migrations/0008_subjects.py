"""``sub`` moves to idp's own table: every value ever issued (``idp.User.sub``) is copied, unchanged."""

import django.db.models.deletion
import idp.subject_models
from django.conf import settings
from django.db import migrations, models


def copy_issued_subs(apps, schema_editor):
    """Each existing person keeps the ``sub`` every client has already seen."""
    try:
        User = apps.get_model("idp", "User")
    except LookupError:
        return  # a site whose idp never had a user model: nothing was issued
    if "sub" not in {field.name for field in User._meta.get_fields()}:
        return
    Subject = apps.get_model("idp", "Subject")
    rows = User.objects.using(schema_editor.connection.alias).values_list("pk", "sub").order_by("pk")
    batch = []
    for pk, sub in rows.iterator(chunk_size=2000):
        batch.append(Subject(user_id=pk, value=str(sub)))
        if len(batch) == 2000:
            Subject.objects.using(schema_editor.connection.alias).bulk_create(batch)
            batch = []
    Subject.objects.using(schema_editor.connection.alias).bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ('idp', '0007_audit_account_lifecycle_events'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='application',
            name='sector_identifier',
            field=models.CharField(blank=True, help_text="Pairwise only: the host whose clients share a sub. Empty: the redirect URIs' host.", max_length=255, verbose_name='sector identifier'),
        ),
        migrations.AddField(
            model_name='application',
            name='subject_type',
            field=models.CharField(choices=[('public', 'Public: one sub per person'), ('pairwise', 'Pairwise: one per sector')], default='public', help_text='Pairwise: clients of different sectors cannot correlate a person (OIDC Core 8).', max_length=8, verbose_name='subject type'),
        ),
        migrations.CreateModel(
            name='Subject',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('value', models.CharField(default=idp.subject_models.new_subject_value, editable=False, max_length=64, unique=True, verbose_name='subject identifier')),
                ('created', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='idp_subject', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='PairwiseSubject',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sector', models.CharField(max_length=255, verbose_name='sector identifier')),
                ('value', models.CharField(default=idp.subject_models.new_subject_value, editable=False, max_length=64, unique=True, verbose_name='subject identifier')),
                ('created', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('user', 'sector'), name='idp_pairwise_subject_unique')],
            },
        ),
        migrations.RunPython(copy_issued_subs, migrations.RunPython.noop),
    ]
