from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0012_reference_copy_of"),
    ]

    operations = [
        migrations.AddField(
            model_name="reference",
            name="link_deleted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
