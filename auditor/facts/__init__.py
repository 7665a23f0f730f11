"""Facts derived once per repository, what every rule receives: publish steps and jobs,
effective permissions, reachability by trigger (``context``), where the distributions are
between download and upload (``distflow``) and a job's distance from the upload
(``upload_distance``)."""
