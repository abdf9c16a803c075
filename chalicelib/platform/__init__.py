"""What every layer may use: settings, errors, logs, outbound guard, languages, AWS clients."""
