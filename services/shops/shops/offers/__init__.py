"""What a shop offers (parcel pickup, certificates…): the catalogue, offers and their weekly hours."""
