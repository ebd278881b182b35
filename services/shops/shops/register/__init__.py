"""Shops, kiosks and historic shops: the register, their status and historic recognition."""
