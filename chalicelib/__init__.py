"""ClinicFlow: patient-retention automation for clinics (domain core, services, adapters)."""
