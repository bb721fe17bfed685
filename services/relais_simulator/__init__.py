"""The OPCO simulator: one HTTP server speaking the convergence API for the 11 OPCO.

A separate program from relais (a sandbox a CFA network can run), sharing only the domain models
(``relais.domain``)
and the OPCO profiles. ``relais_simulator.app.create_app(config)`` builds the ASGI
app; ``relais simulator`` runs it under uvicorn.
"""
