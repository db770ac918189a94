"""Paper questionnaires (纸质问卷): an entry template, all-or-nothing import, double entry.

* :mod:`.columns` the template's columns for a questionnaire version, and reading them back
  from a header row;
* :mod:`.template` the XLSX entry template (dropdowns with the Chinese labels, a sheet that
  explains the skip logic and the codes);
* :mod:`.sheet` reading a filled template (XLSX, or CSV in UTF-8 or GBK);
* :mod:`.cells` the rules of one typed-in row, cell by cell;
* :mod:`.importing` checking a whole file and storing it, all or nothing, through the same
  service as the QR flow (``survey.services.responses.write_response``);
* :mod:`.double` double entry: two clerks' files compared, mismatches settled by a reviewer.

Paper responses have no device, form instance, network or browser (all NULL), and no clock:
``Screen(timed=False)`` gives them no completion time and neither ``TOO_FAST`` nor
``NO_TIMING``; their ``submitted_at`` is the date on the paper at noon China time (or the
moment of import for a paper dated today, whichever is earlier).
"""
