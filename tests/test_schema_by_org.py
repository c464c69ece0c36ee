"""Every table of the project is reachable from an org id (the README's Scaling: what a PostgreSQL sharded by org,
such as Citus, would distribute by), apart from the few global tables named here with why."""

from django.apps import apps

PROJECT_APPS = {"campaigns", "delivery", "insights", "linktrack"}
# Tables of no org: each is small, or a table of the whole service (Citus would keep them as reference tables).
GLOBAL = {
    "campaigns.Org": "the orgs themselves",
    "campaigns.User": "a person may belong to several orgs (through their memberships)",
    "campaigns.Authenticator": "a person's two-step sign-in, like the person",
    "campaigns.RecoveryCode": "a person's two-step recovery codes, like the person",
    "linktrack.ShortDomain": "a host the redirect serves, looked up by host before any org is known",
    "linktrack.ClickRetention": "which months of clicks the whole service has dropped",
}


def _reaches_org(model, seen=()) -> bool:
    if model._meta.label == "campaigns.Org":
        return True
    fields = {field.name for field in model._meta.concrete_fields}
    if "org_id" in fields or "org" in fields:
        return True
    for field in model._meta.concrete_fields:
        target = getattr(field, "related_model", None)
        if field.many_to_one and target is not None and target not in seen and _reaches_org(target, (*seen, model)):
            return True
    return False


def test_every_table_of_the_project_is_reachable_from_an_org():
    # (An unmanaged model is no table of the schema: a session's temporary table.)
    models = [model for model in apps.get_models() if model._meta.app_label in PROJECT_APPS and model._meta.managed]
    assert len(models) > 20, "the project's models were not found: the test would prove nothing"
    unreachable = sorted(
        model._meta.label for model in models if model._meta.label not in GLOBAL and not _reaches_org(model)
    )
    assert unreachable == [], f"tables with no way to an org id (say why in GLOBAL, or give them one): {unreachable}"
    assert set(GLOBAL) <= {model._meta.label for model in models}, "a global table named here no longer exists"
