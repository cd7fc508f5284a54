"""Generated documents (labels, certificates, notices) as PDFs with an embedded CJK font."""
