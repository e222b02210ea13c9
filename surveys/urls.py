"""Pages of requesters and viewers, under /enquetes/ (namespace "surveys").

One module of URL patterns per part, so that each part is kept in one place.
"""

from surveys import (
    urls_adhoc,
    urls_audience,
    urls_builder,
    urls_campaigns,
    urls_coordination,
    urls_register,
)

app_name = "surveys"

urlpatterns = [
    *urls_campaigns.urlpatterns,
    *urls_audience.urlpatterns,
    *urls_register.urlpatterns,
    *urls_builder.urlpatterns,
    *urls_coordination.urlpatterns,
    *urls_adhoc.urlpatterns,
]
