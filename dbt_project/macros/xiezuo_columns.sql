{#- A ledger's stored columns, read from its source definition (models/staging/_src.yml, which
    is generated from the contract), so no model restates a contract's columns. -#}
{% macro xiezuo_columns(kind) -%}
    {%- set cols = [] -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() -%}
            {%- if node.source_name == 'raw' and node.name == kind ~ '_rows' -%}
                {%- for c in node.columns -%}
                    {%- if c not in ('submission_id', 'source_row') -%}{%- do cols.append(c) -%}{%- endif -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(cols) }}
{%- endmacro %}
