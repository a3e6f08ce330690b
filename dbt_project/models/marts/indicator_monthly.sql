-- One row per area × indicator × month in which the area's value exists (indicators.md).
{% set parts = [] %}
{% for i in indicators(rule='sum') %}
    {% do parts.append(sum_indicator(i)) %}
{% endfor %}
{% for part in parts %}
select * from ({{ part }}) as p{{ loop.index }}
{{ "union all" if not loop.last }}
{% endfor %}
