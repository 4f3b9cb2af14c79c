"""PDF reports: one per network and one for the whole account, made on the server.

:mod:`app.reports.build` gathers what the pages show (through :mod:`app.dashboard.service`,
so the access rules are the pages'), draws the charts as SVG (:mod:`app.reports.charts`) and
renders ``templates/reports/report.html`` to PDF with WeasyPrint, which fetches nothing from
outside. :mod:`app.reports.views` serves them at stable URLs next to the other exports.
"""
