"""System of record (档案库): org units, staff, residents, records, enrollments, encounters, contracts."""
