{#-
  Custom schemas are used as written (no target-schema prefix). The marts are built aside in
  var('marts_build_schema') and published by an atomic schema swap after the mart quality gate.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif custom_schema_name == 'marts' -%}
        {{ var('marts_build_schema', 'marts__next') }}
    {%- else -%}
        {{ custom_schema_name }}
    {%- endif -%}
{%- endmacro %}
