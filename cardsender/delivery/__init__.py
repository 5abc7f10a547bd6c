"""Ways cards leave the office: email by SMTP or to files (printing comes with the print work)."""
