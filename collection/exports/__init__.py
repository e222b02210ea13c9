"""Exports of a campaign's values (long and wide), of its late list, as CSV or XLSX.

- ``access``: who may export what (the owner's members and national directorates: the whole
  campaign; an ARS on another organisation's national campaign: its territories' rows);
- ``rows``: the rows, read from the value store in bounded memory, and the codebook;
- ``writers``: CSV (streamed) and XLSX (openpyxl ``write_only``), every text cell neutralised;
- ``services``: ``export_create`` (streamed at once, or an ``Export`` row and a Celery task),
  ``export_build`` (the task's work), ``export_purge`` (the beat's).
"""
