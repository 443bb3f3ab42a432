import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0008_idempotency_body"),
        ("teams", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReplacedHostedFile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("file_id", models.CharField(max_length=200)),
                ("hosted_account", models.CharField(max_length=64)),
                ("hosted_until", models.DateTimeField()),
                (
                    "team",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="replaced_hosted_files",
                        to="teams.team",
                    ),
                ),
            ],
        ),
    ]
