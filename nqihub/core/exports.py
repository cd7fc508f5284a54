"""Excel exports: the writer lives in the tables kernel (``nqihub.tables.writers``); these
names stay importable from here for the pages that use them."""

from nqihub.tables.writers import (  # noqa: F401 - re-exported
    ROWS_PER_SHEET,
    XLSX_CONTENT_TYPE,
    build_xlsx,
    safe_cell,
    sheet_title,
    write_workbook,
    xlsx_response,
)
