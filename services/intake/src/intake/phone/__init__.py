"""The phone channel: versioned voice menus (operators), calls through them (the provider's signed
webhooks, answered in TwiML), and call legs for counsellors to complete into consultations."""
