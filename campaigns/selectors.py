from django.db.models import QuerySet

from campaigns.models import Campaign, Org, Template, User


def orgs_for_user(user: User) -> QuerySet[Org]:
    """Support staff see every org; a campaign manager sees the orgs they belong to."""
    if user.is_staff:
        return Org.objects.all()
    return Org.objects.filter(memberships__user=user)


def campaigns_for_user(user: User) -> QuerySet[Campaign]:
    return Campaign.objects.filter(org__in=orgs_for_user(user)).select_related("org", "template")


def templates_for_user(user: User) -> QuerySet[Template]:
    return Template.objects.filter(org__in=orgs_for_user(user)).select_related("org", "sender")
