"""The daily report to the manager: facts per case, numbers per period, four renderings, mail.

- `facts`: what the report needs of one case, period-independent plain tuples that the
  case index keeps per day, so a report never parses a case file it has seen before;
- `period`: the period a report covers, from the command line's options;
- `numbers`: the report itself, one plain data structure computed from the facts;
- `render`: that structure as a terminal summary, JSON, CSV files and an HTML page
  (templates under `templates/`, charts as inline SVG);
- `mail`: `--mail`, who gets the report and sending `render.mail_parts(...)`: the same
  numbers as HTML with a plain-text alternative.
"""
