from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0010_generation_token"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="generatedimage",
            index=models.Index(fields=["sha256"], name="generated_image_content"),
        ),
    ]
