"""``{% open_queries_count as n %}``: the open queries on the units the user answers for, for
the badge of the respondents' inbox (one COUNT)."""

from django import template

from collection.quality import open_query_count

register = template.Library()


@register.simple_tag(takes_context=True)
def open_queries_count(context: template.Context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return open_query_count(user=user)
