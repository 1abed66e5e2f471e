"""The rules the app applies, as plain functions: phone numbers, texts and their segments,
China time and quiet hours, network addresses. No ORM and no HTTP here."""
