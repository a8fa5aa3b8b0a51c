"""The use cases, one module per domain, written once above the ports.

Services validate input, enforce the rules and call the stores and the
timeline engine. They raise ``UserError`` for expected problems and never
import a driver. ``container.py`` holds what a request reaches them through;
``bootstrap/services.py`` builds it.
"""
