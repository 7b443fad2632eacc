"""The web app as a whole: the factory, login and roles, security headers and limits, rate limits, translations, hostile forms."""
