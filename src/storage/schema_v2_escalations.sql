-- Escalation lists filter on status (and assignee or due date) and sort by due date.
CREATE INDEX escalations_status_due ON escalations(status, due_date);
