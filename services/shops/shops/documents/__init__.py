"""Documents a shop uploads (PDF, JPEG, PNG), kept in the shops database with GridFS."""
