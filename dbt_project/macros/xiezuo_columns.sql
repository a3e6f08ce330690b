{#- A ledger's stored columns, read from its source definition (models/staging/_src.yml, which
    is generated from the contract), so no model restates a contract's columns.
    derived_personal=false leaves out what intake derived from an ID number besides its key
    (<x>_birth_year, <x>_gender, <x>_region next to <x>_key): the facts in `marts` keep only the
    pseudonymous key. -#}
{% macro xiezuo_columns(kind, derived_personal=true) -%}
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
    {%- if not derived_personal -%}
        {%- set keys = [] -%}
        {%- for c in cols if c.endswith('_key') -%}{%- do keys.append(c[:-4]) -%}{%- endfor -%}
        {%- set kept = [] -%}
        {%- for c in cols -%}
            {%- set derived = [] -%}
            {%- for k in keys if c in (k ~ '_birth_year', k ~ '_gender', k ~ '_region') -%}{%- do derived.append(c) -%}{%- endfor -%}
            {%- if not derived -%}{%- do kept.append(c) -%}{%- endif -%}
        {%- endfor -%}
        {%- set cols = kept -%}
    {%- endif -%}
    {{ return(cols) }}
{%- endmacro %}

{#- The six ledger kinds: every raw.<kind>_rows source (generated from the contracts). -#}
{% macro xiezuo_kinds() -%}
    {%- set kinds = [] -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() -%}
            {%- if node.source_name == 'raw' and node.name.endswith('_rows') -%}
                {%- do kinds.append(node.name[:-5]) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(kinds | sort) }}
{%- endmacro %}
