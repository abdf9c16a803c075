"""Domain rules of ClinicFlow: plain functions and models, no AWS calls."""
