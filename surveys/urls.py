"""Pages of requesters and viewers, under /enquetes/ (namespace "surveys").

One module of URL patterns per part, so that each part is kept in one place.
"""

from surveys import urls_campaigns

app_name = "surveys"

urlpatterns = [
    *urls_campaigns.urlpatterns,
]
