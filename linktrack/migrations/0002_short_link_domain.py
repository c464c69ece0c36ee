# Links minted before this migration were sent with their org's short domain: record it on each link, so its
# codes keep resolving on that domain (and only there).

from urllib.parse import urlsplit

from django.conf import settings
from django.db import migrations, models


def _host(value):
    value = (value or "").strip().lower()
    if "://" not in value:
        value = f"//{value}"
    return (urlsplit(value).hostname or "").rstrip(".")


def record_minting_domain(apps, schema_editor):
    short_link_model = apps.get_model("linktrack", "ShortLink")
    short_domain_model = apps.get_model("linktrack", "ShortDomain")
    base = urlsplit(settings.SHORT_LINK_BASE_URL)
    # Only a base served at the root of its own host can be the same place as an org's short domain.
    default_host = _host(settings.SHORT_LINK_BASE_URL) if base.path in ("", "/") else None
    for link in short_link_model.objects.exclude(campaign__org__short_domain="").select_related("campaign__org"):
        domain = _host(link.campaign.org.short_domain)
        if domain and domain != default_host:
            link.short_domain = domain
            link.save(update_fields=["short_domain"])
            short_domain_model.objects.get_or_create(host=domain)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_short_domain_utm_html_body"),
        ("linktrack", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name='ShortDomain',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('host', models.CharField(max_length=100, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.RemoveConstraint(
            model_name="shortlink",
            name="shortlink_unique_campaign_destination",
        ),
        migrations.AddField(
            model_name="shortlink",
            name="short_domain",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.RunPython(record_minting_domain, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="shortlink",
            constraint=models.UniqueConstraint(
                fields=("campaign", "short_domain", "destination"), name="shortlink_unique_campaign_domain_destination"
            ),
        ),
    ]
