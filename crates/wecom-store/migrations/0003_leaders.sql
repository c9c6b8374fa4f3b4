-- department/list names each department's leaders: find them without reading every membership.
CREATE INDEX member_departments_leaders ON member_departments (corpid, department_id) WHERE is_leader = 1;
