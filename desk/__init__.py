"""The staff desk: a small server-rendered web front-end where advisors read and edit case files
and admins keep offers and staff current. It calls the same ``storage`` operations as the bot."""
