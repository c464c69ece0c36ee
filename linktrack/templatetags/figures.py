"""`{{ value|figure:org }}`: a figure with its digits grouped as the org reads them (12,34,567 when the org has the
Indian grouping on, else 1,234,567). The argument is an org (its `indian_number_grouping`) or a yes/no."""

from django import template

from linktrack.common.figures import figure_text, indian_grouping

register = template.Library()


@register.filter
def figure(value, org_or_flag=False) -> str:
    return figure_text(value, indian=indian_grouping(org_or_flag))
