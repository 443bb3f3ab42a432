from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0011_image_content_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="reference",
            name="copy_of_sha256",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
