"""Opt-outs are checked: those typed by hand before are normalised to 11 digits (merged
with an existing row of the same number), and those that are no number at all are kept as
they were and listed, to be fixed in the admin (filter “not a mobile number”): deleting a
person's refusal would be worse than keeping a row that matches nothing. The unused
"import" source goes. Invalid import entries are stored as CSV rows with their line."""

import sys

import django.core.validators
from django.db import migrations, models

from django_veesing.rules.phones import InvalidPhone, normalise

SHOWN = 20


def normalise_opt_outs(apps, schema_editor):
    OptOut = apps.get_model("django_veesing", "OptOut")
    OptOut.objects.filter(source="import").update(source="admin")
    changed, merged, invalid = 0, 0, []
    for pk, phone in OptOut.objects.exclude(phone__regex=r"^1[3-9][0-9]{9}$").values_list("pk", "phone"):
        try:
            number = normalise(phone)
        except InvalidPhone as reason:
            invalid.append(f"{phone!r} ({reason.code})")
            continue
        if OptOut.objects.filter(phone=number).exists():
            OptOut.objects.filter(pk=pk).delete()
            merged += 1
        else:
            OptOut.objects.filter(pk=pk).update(phone=number)
            changed += 1
    if changed or merged or invalid:
        sys.stdout.write(
            f"\n  Opt-outs: {changed} normalised to 11 digits, {merged} merged with the same number;"
            f" {len(invalid)} not a mainland mobile number, kept unchanged (admin: opt-outs, filter"
            f" “not a mobile number”): {', '.join(invalid[:SHOWN])}{' …' if len(invalid) > SHOWN else ''}\n"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("django_veesing", "0009_campaign_counts_in_slots"),
    ]

    operations = [
        migrations.RunPython(normalise_opt_outs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="importjob",
            name="invalid",
            field=models.TextField(
                blank=True, help_text="One CSV row “line,entry,reason” each.", verbose_name="invalid entries"
            ),
        ),
        migrations.AlterField(
            model_name="importjob",
            name="message",
            field=models.TextField(
                blank=True, help_text="Which column was read, or why the import failed.", verbose_name="message"
            ),
        ),
        migrations.AlterField(
            model_name="optout",
            name="phone",
            field=models.CharField(
                max_length=11,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^1[3-9][0-9]{9}$", "Enter an 11-digit mainland mobile number."
                    )
                ],
                verbose_name="phone",
            ),
        ),
        migrations.AlterField(
            model_name="optout",
            name="source",
            field=models.CharField(
                choices=[("reply", "reply"), ("admin", "admin")], default="admin", max_length=16, verbose_name="source"
            ),
        ),
    ]
