"""Long texts of the dashboard: the About page and the data dictionary, in Spanish and English."""

from __future__ import annotations

from riskmap.settings import DATA_DIR

ABOUT: dict[str, str] = {
    "en": """
### What this is
riskmap maps reported violence against asylum seekers returned to Tamaulipas, Mexico, under the
US "Remain in Mexico" program (Migrant Protection Protocols, MPP): kidnappings (including
"express" kidnappings by police), extortion, sexual assault, robbery and threats at bus
terminals, in taxis, outside the Mexican immigration (INM) offices by the international bridges,
near shelters and at the Matamoros camp.

### The bundled data are synthetic
**Every incident in the bundled sample is invented.** Its totals match the figures Human Rights
Watch published for Tamaulipas, November 2019 – January 2020 (at least 32 kidnappings or
attempts, at least 80 people kidnapped and 19 more in attempts, at least 38 children, 4 women
reporting sexual assault, 5 express kidnappings by police), but no record is a real event or a
real person. Downloads of synthetic data say so in the file and in the manifest.

### Method
- **Geocoding.** Place descriptions ("la central camionera", "outside the INM office at
  Bridge 2") are matched against a gazetteer of real places with sourced coordinates
  (`riskmap/data/gazetteer.csv`, each row citing its source). Text is normalised (case, accents,
  abbreviations), matched exactly to known names and aliases, then fuzzily; the city decides
  between same-named places ("Puente Nuevo" is a different bridge in each city).
- **Precision.** Each incident is placed at a *site*, in a *neighbourhood*, only in a *city*, or
  *unresolved* (after ACLED's geo-precision codes). Only sites are drawn as points; areas are
  drawn as circles that show the uncertainty, city-level incidents as a count at the city, and
  unresolved incidents are counted beside the map but not drawn.
- **Counting.** One incident is one event, whatever its types. "People kidnapped" are the
  victims of kidnappings and express kidnappings; "people in attempts" those of attempts only;
  children are counted among them. Published figures appear beside the counts only when no
  filter other than the date is set and the dates cover their whole period.
- **Hotspots.** Sites are ranked by the incidents attributed to them (the place the report
  names), in the period and the one before, each with an exact 95% Poisson interval; a bridge
  and the INM post at its foot are one site. Places with no public coordinate are ranked by
  name and listed beside the map, never pinned where they are not. Getis-Ord Gi* on an H3 hex
  grid, with permutation inference and a false-discovery-rate correction, runs only with at
  least 30 precisely placed incidents; otherwise the app says why it does not.

### Limits
These are **reported** incidents only: a fraction of what happens. Many victims never report, out
of fear or because they are moved on; reports cluster where researchers and shelters are. A
place with few reports is not a safe place. Counts this small are uncertain: read the intervals.

### Privacy: the public release
Everything public on this page — map, counts, charts, ranking, table, downloads — comes from one
**public release** of the data, built so that no person can be singled out:
- **the guarantee**: every combination of what you can see or filter on (the place shown with its
  city and kind, the date shown, the incident types, the perpetrator, whether children were
  affected) is shared by none or by at least 3 incidents (k-anonymity, k = 3). The filters look
  only at those shown values, so every count on the page is 0 or at least 3, and so is what one
  selection holds that another does not;
- where a combination is rarer, it is shown less precisely: a site becomes an area (an H3 cell of
  about 0.7 km²) or the city; a day becomes a week, a month, a quarter or a year; types and
  perpetrators become groups; some values are not shown at all. Incidents that cannot be
  protected even then are left out, and the page says how many;
- an incident at a shelter or the camp is never pinned there, and no kind of place names them;
  incidents that include sexual assault are shown at the city and by month at most;
- descriptions, notes and sources never appear; incident ids are replaced by pseudonyms; a city
  is shown only when it is one of the gazetteer's;
- no number of people is shown here (two sums subtracted would tell those of a few incidents):
  the counts are of incidents, and the published report's figures stand beside them;
- **its limits**: someone who already knows all but one of the incidents in a group learns the
  last; if all incidents of a group share a value, that value is known of each; releases of
  different versions of the data can be compared. Small data sets are shown coarsely.
Exact locations and notes are available only in the restricted view, after login, to staff on
an allow-list. The report below says how the release was built.

### Sources
- Human Rights Watch, "US: Investigate 'Remain in Mexico' Program" (2 June 2020), and its
  complaint to the DHS Inspector General: figures for Tamaulipas, Nov 2019 – Jan 2020.
- Gazetteer coordinates: see the `source` column of `riskmap/data/gazetteer.csv` (encyclopedia
  coordinates, GeoNames ids, government crossing lists).
- Map tiles © OpenStreetMap contributors.
""",
    "es": """
### Qué es
riskmap mapea la violencia reportada contra solicitantes de asilo devueltos a Tamaulipas, México,
por el programa estadounidense "Quédate en México" (Protocolos de Protección a Migrantes, MPP):
secuestros (incluidos secuestros "exprés" por policías), extorsión, agresión sexual, robo y
amenazas en centrales de autobuses, en taxis, afuera de las oficinas del Instituto Nacional de
Migración (INM) junto a los puentes internacionales, cerca de albergues y en el campamento de
Matamoros.

### Los datos incluidos son sintéticos
**Todos los incidentes de la muestra incluida son inventados.** Sus totales coinciden con las
cifras que Human Rights Watch publicó para Tamaulipas, noviembre de 2019 a enero de 2020 (al menos
32 secuestros o intentos, al menos 80 personas secuestradas y 19 más en intentos, al menos 38
menores, 4 mujeres que denunciaron agresión sexual, 5 secuestros exprés por policías), pero
ningún registro es un hecho ni una persona real. Las descargas de datos sintéticos lo indican en
el archivo y en el manifiesto.

### Método
- **Geocodificación.** Las descripciones de lugares ("la central camionera", "afuera del INM en
  el Puente 2") se comparan con un nomenclátor de lugares reales con coordenadas documentadas
  (`riskmap/data/gazetteer.csv`, cada fila cita su fuente). El texto se normaliza (mayúsculas,
  acentos, abreviaturas), se compara exactamente con nombres y alias conocidos y luego de forma
  aproximada; la ciudad decide entre lugares con el mismo nombre ("Puente Nuevo" es un puente
  distinto en cada ciudad).
- **Precisión.** Cada incidente se ubica en un *sitio*, en una *colonia*, solo en una *ciudad*, o
  queda *sin ubicar* (según los códigos de precisión geográfica de ACLED). Solo los sitios se
  dibujan como puntos; las zonas como círculos que muestran la incertidumbre; los incidentes
  conocidos solo por ciudad como un número en la ciudad; los no ubicados se cuentan junto al
  mapa, sin dibujarse.
- **Conteo.** Un incidente es un hecho, tenga los tipos que tenga. Las "personas secuestradas"
  son las víctimas de secuestros y secuestros exprés; las "personas en intentos", las de intentos;
  los menores se cuentan entre ellas. Las cifras publicadas se muestran junto a los conteos solo
  si no hay más filtro que la fecha y las fechas cubren todo su periodo.
- **Puntos de riesgo.** Los sitios se ordenan por los incidentes que se les atribuyen (el lugar
  que nombra el reporte), en el periodo y en el anterior, cada uno con un intervalo de Poisson
  exacto al 95%; un puente y el puesto del INM a su pie son un solo sitio. Los lugares sin
  coordenada pública se ordenan por nombre y se listan junto al mapa, nunca se señalan donde no
  están.
  Gi* de Getis-Ord sobre una malla hexagonal H3, con inferencia por permutaciones y corrección
  por tasa de falsos descubrimientos, solo se calcula con al menos 30 incidentes ubicados con
  precisión; si no, la aplicación explica por qué.

### Límites
Son solo incidentes **reportados**: una fracción de lo que ocurre. Muchas víctimas nunca
denuncian, por miedo o porque se desplazan; los reportes se concentran donde hay investigadores y
albergues. Un lugar con pocos reportes no es un lugar seguro. Con conteos tan pequeños hay mucha
incertidumbre: lea los intervalos.

### Privacidad: la publicación pública
Todo lo público de esta página —mapa, conteos, gráficos, clasificación, tabla, descargas— sale de
una sola **publicación pública** de los datos, hecha para que nadie pueda ser señalado:
- **la garantía**: cada combinación de lo que se puede ver o filtrar (el lugar mostrado con su
  ciudad y tipo, la fecha mostrada, los tipos de incidente, el perpetrador, si había menores) la
  comparten ninguno o al menos 3 incidentes (k-anonimato, k = 3). Los filtros solo miran esos
  valores mostrados, así que todo conteo de la página es 0 o al menos 3, y también lo que una
  selección tiene y otra no;
- donde una combinación es más rara, se muestra con menos precisión: un sitio pasa a ser una zona
  (una celda H3 de unos 0.7 km²) o la ciudad; un día, una semana, un mes, un trimestre o un año;
  los tipos y perpetradores, grupos; algunos valores no se muestran. Los incidentes que ni así se
  pueden proteger quedan fuera, y la página dice cuántos;
- un incidente en un albergue o en el campamento nunca se señala allí, y ningún tipo de lugar los
  nombra; los incidentes con agresión sexual se muestran como mucho en la ciudad y por mes;
- nunca aparecen descripciones, notas ni fuentes; los identificadores se reemplazan por
  seudónimos; una ciudad solo se muestra si es una del nomenclátor;
- aquí no se muestra ningún número de personas (dos sumas restadas dirían las de unos pocos
  incidentes): los conteos son de incidentes, y las cifras del informe publicado están al lado;
- **sus límites**: quien ya conoce todos los incidentes de un grupo menos uno deduce el último;
  si todos los incidentes de un grupo comparten un valor, ese valor se sabe de cada uno; se
  pueden comparar publicaciones de distintas versiones de los datos. Los conjuntos pequeños se
  muestran con poco detalle.
Las ubicaciones exactas y las notas solo están en la vista restringida, tras iniciar sesión, para
personal en una lista autorizada. El informe de abajo dice cómo se construyó la publicación.

### Fuentes
- Human Rights Watch, "US: Investigate 'Remain in Mexico' Program" (2 de junio de 2020), y su
  queja ante el Inspector General del DHS: cifras para Tamaulipas, nov. 2019 – ene. 2020.
- Coordenadas del nomenclátor: ver la columna `source` de `riskmap/data/gazetteer.csv`
  (coordenadas de enciclopedias, identificadores de GeoNames, listas oficiales de cruces).
- Mosaicos del mapa © colaboradores de OpenStreetMap.
""",
}


def about(lang: str) -> str:
    """Return the About page in ``lang`` (Markdown)."""
    return ABOUT[lang].strip()


def data_dictionary(lang: str) -> str:
    """Return the data dictionary's section in ``lang`` (``riskmap/data/DATA_DICTIONARY.md``)."""
    text = (DATA_DIR / "DATA_DICTIONARY.md").read_text(encoding="utf-8")
    heading = "## Español" if lang == "es" else "## English"
    other = "## English" if lang == "es" else "## Español"
    part = text.split(heading, 1)[1]
    return part.split(other, 1)[0].strip()


_REPORT_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Public release: k = {k}",
        "summary": "{released} of {incidents} incidents are in the public release; {suppressed} "
        "are not (their combination of place, date, types, perpetrator and children was shared "
        "by fewer than {k} incidents, even at the coarsest level).",
        "all_in": "All {incidents} incidents are in the public release.",
        "guarantee": "Every combination of shown values is held by 0 or at least {k} incidents, "
        "so every public count is 0 or at least {k}, and so is what one filter state selects "
        "that another does not. Detail kept: {detail:.0%}.",
        "location": "Place",
        "date": "Date",
        "types": "Incident types",
        "perpetrator": "Perpetrator",
        "children": "Children affected",
        "through": "Data through {date}.",
    },
    "es": {
        "title": "Publicación pública: k = {k}",
        "summary": "{released} de {incidents} incidentes están en la publicación pública; "
        "{suppressed} no (su combinación de lugar, fecha, tipos, perpetrador y niñez la "
        "compartían menos de {k} incidentes, aun al nivel más general).",
        "all_in": "Los {incidents} incidentes están en la publicación pública.",
        "guarantee": "Cada combinación de valores mostrados la tienen 0 o al menos {k} "
        "incidentes: todo conteo público es 0 o al menos {k}, y también lo que un estado de los "
        "filtros selecciona y otro no. Detalle conservado: {detail:.0%}.",
        "location": "Lugar",
        "date": "Fecha",
        "types": "Tipos de incidente",
        "perpetrator": "Perpetrador",
        "children": "Niñas y niños afectados",
        "through": "Datos hasta el {date}.",
    },
}


def release_report(report: dict[str, object], lang: str) -> str:
    """Return the release report in words (Markdown): k, levels chosen, suppressed incidents.

    Parameters
    ----------
    report
        :attr:`riskmap.release.public.Release.report`.
    lang
        ``"es"`` or ``"en"``.
    """
    from riskmap.views.i18n import label

    text = _REPORT_TEXT[lang]
    summary = text["summary" if report.get("suppressed") else "all_in"]
    lines = [
        f"**{text['title'].format(**report)}**",
        "",
        summary.format(**report),
        text["guarantee"].format(**report),
    ]
    if report.get("data_through"):
        lines.append(text["through"].format(date=report["data_through"]))
    lines.append("")
    levels = report.get("levels")
    if isinstance(levels, dict):
        for attribute, counts in levels.items():
            shown = ", ".join(f"{label(level, lang)} {n}" for level, n in counts.items() if n)
            lines.append(f"- {text[attribute]}: {shown}")
    return "\n".join(lines)
