"""Count the generations made before the running totals existed (in TIME_ZONE's local days)."""

from django.db import migrations


def fill(apps, schema_editor):
    from playground.generations.totals import counted_from_rows, total_of

    Generation = apps.get_model("generations", "Generation")
    CreditTotal = apps.get_model("generations", "CreditTotal")
    CreditTotal.objects.all().delete()
    CreditTotal.objects.bulk_create(
        [total_of(key, counted, CreditTotal) for key, counted in counted_from_rows(Generation.objects.all()).items()],
        batch_size=1000,
    )


def empty(apps, schema_editor):
    apps.get_model("generations", "CreditTotal").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("generations", "0014_credit_totals")]

    operations = [migrations.RunPython(fill, empty)]
