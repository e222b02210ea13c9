"""Answering by spreadsheet: a signed template to download, an upload checked by the same engine
as the form and the API, a preview, and one transaction to apply it.

- ``template``: the workbook a respondent downloads (one row per unit and period owed);
- ``reader``: refuses unsafe or unreadable files, then reads cells (calamine, csv);
- ``importer``: maps rows to assignments, checks them in a batch, previews, applies, annotates.
"""
