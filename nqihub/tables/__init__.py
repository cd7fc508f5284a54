"""Tables in and out: one reader for uploaded tables (.xlsx, .xls, .ods, CSV) with bounded
resources and header matching, one error list with a cap, one export writer, and one base for
background import and export jobs. A kernel app: it imports no domain app."""
