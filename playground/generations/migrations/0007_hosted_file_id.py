from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0006_request_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="reference",
            name="hosted_file_id",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="reference",
            name="hosted_account",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
