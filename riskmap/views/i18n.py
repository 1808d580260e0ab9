"""Spanish and English text for everything the dashboard shows.

Every label, legend, message and chart title is looked up here with :func:`t`, so a missing
translation is a test failure rather than a half-English page.
"""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("es", "en")
DEFAULT_LANGUAGE = "es"

VALUE_LABELS: dict[str, dict[str, str]] = {
    "en": {
        # incident types
        "kidnapping": "Kidnapping",
        "attempted_kidnapping": "Attempted kidnapping",
        "express_kidnapping": "Express kidnapping",
        "extortion": "Extortion",
        "sexual_assault": "Sexual assault",
        "robbery": "Robbery",
        "assault": "Assault",
        "threat": "Threat",
        # perpetrators
        "criminal_group": "Criminal group",
        "police": "Police",
        "immigration_agent": "Immigration agent",
        "military": "Military",
        "unknown": "Unknown",
        "other": "Other",
        # place types
        "port_of_entry": "International bridge",
        "bus_terminal": "Bus terminal",
        "immigration_office": "INM office",
        "shelter": "Shelter",
        "camp": "Camp",
        "plaza": "Plaza",
        "neighborhood": "Neighbourhood",
        "city": "City",
        # precision
        "site": "Site",
        "unresolved": "Unresolved",
        "hex": "Area (~0.7 km² cell)",
        "none": "Not shown",
        # groups of the public release
        "kidnapping_any": "Kidnapping or attempt (type not shown)",
        "extortion_robbery": "Extortion or robbery (type not shown)",
        "violence": "Physical or sexual violence (type not shown)",
        "threat_other": "Threat or other (type not shown)",
        "state_agent": "State agent (police, INM, military)",
        "non_state": "Non-state (criminal group, other)",
        # precision of a release value
        "day": "Day",
        "week": "Week of the month",
        "month": "Month",
        "quarter": "Quarter",
        "year": "Year",
        "exact": "Exact",
        "flag": "Shown",
        "group": "Group",
        "withheld": "Withheld",
        "cell": "Area (cell)",
    },
    "es": {
        "kidnapping": "Secuestro",
        "attempted_kidnapping": "Intento de secuestro",
        "express_kidnapping": "Secuestro exprés",
        "extortion": "Extorsión",
        "sexual_assault": "Agresión sexual",
        "robbery": "Robo",
        "assault": "Agresión",
        "threat": "Amenaza",
        "criminal_group": "Grupo criminal",
        "police": "Policía",
        "immigration_agent": "Agente de migración",
        "military": "Militares",
        "unknown": "Desconocido",
        "other": "Otro",
        "port_of_entry": "Puente internacional",
        "bus_terminal": "Central de autobuses",
        "immigration_office": "Oficina del INM",
        "shelter": "Albergue",
        "camp": "Campamento",
        "plaza": "Plaza",
        "neighborhood": "Colonia",
        "city": "Ciudad",
        "site": "Sitio",
        "unresolved": "Sin ubicar",
        "hex": "Zona (celda de ~0.7 km²)",
        "none": "No se muestra",
        "kidnapping_any": "Secuestro o intento (tipo no mostrado)",
        "extortion_robbery": "Extorsión o robo (tipo no mostrado)",
        "violence": "Violencia física o sexual (tipo no mostrado)",
        "threat_other": "Amenaza u otro (tipo no mostrado)",
        "state_agent": "Agente del Estado (policía, INM, militares)",
        "non_state": "No estatal (grupo criminal, otro)",
        "day": "Día",
        "week": "Semana del mes",
        "month": "Mes",
        "quarter": "Trimestre",
        "year": "Año",
        "exact": "Exacto",
        "flag": "Se muestra",
        "group": "Grupo",
        "withheld": "No se muestra",
        "cell": "Zona (celda)",
    },
}

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "riskmap: violence against asylum seekers on the Tamaulipas border",
        "subtitle": "Reported incidents against people returned to Mexico under the US "
        "'Remain in Mexico' program (MPP).",
        "synthetic_banner": "SYNTHETIC DATA: every incident is invented for demonstration; the "
        "totals match published figures, no record is a real event.",
        "language": "Language",
        "filters": "Filters",
        # --- the first screen: dates, the filter summary, links, layers, the map's legend
        "dates_from_only": "From {start} on: choose an end date to close the range.",
        "dates_swapped": "The start came after the end: the two dates were swapped.",
        "dates_outside": "No data in these dates: the data run from {first} to {last}.",
        "dates_clamped": "The data run from {first} to {last}: the range shown is trimmed to them.",
        "data_through": "data through {day}",
        "showing": "Showing",
        "precision_week": "week",
        "copy_link": "Copy link to this view",
        "layers": "Map layers",
        "layer_heat": "Heatmap",
        "layer_places": "Reference places",
        "legend_numbers": "Numbers: incidents there",
        "legend_fewer": "<{k}: fewer than {k} incidents (the exact number is protected)",
        "legend_cluster": "Double ring: nearby sites grouped at this zoom (\u201cn+\u201d: at "
        "least n); zoom in to split them",
        "legend_mostly": "mostly",
        "group_kidnapping_any": "Kidnapping or attempt",
        "group_extortion_robbery": "Extortion or robbery",
        "group_violence": "Physical or sexual violence",
        "group_threat_other": "Threat or other",
        "group_mixed": "No single type leads",
        "protected_places": "Incidents at {kinds} are protected: the public view counts them "
        "only in their city, never at the place, so this filter shows none of them. Remove it "
        "to see them in the city counts.",
        "published_short": "published: at least {value}",
        "m_people_other": "People affected by other incidents",
        "synthetic_short": "SYNTHETIC DATA — not real events",
        "headers_es": "Column headers in Spanish (codes and values unchanged)",
        "choose": "All (choose to narrow)",
        "period": "Period",
        "preset_all": "All dates",
        "preset_30": "Last 30 days of the data",
        "preset_90": "Last 90 days of the data",
        "preset_custom": "Custom range",
        "span_all": "All",
        "span_last30": "30 days",
        "span_last90": "90 days",
        "span_month": "Month",
        "span_custom": "Dates",
        "month_pick": "Month",
        "span_help": (
            "All dates, the last 30 or 90 days of the data (up to its latest record), one month,"
            " or dates you choose."
        ),
        "date_range": "Date range",
        "incident_types": "Incident types",
        "city": "City",
        "perpetrator": "Perpetrator",
        "place_type": "Place type",
        "children_only": "Involving children",
        "reset": "Reset filters",
        "share_link": "Share this view: copy the page address; it holds every filter.",
        "tab_map": "Map",
        "tab_trends": "Trends",
        "tab_hotspots": "Hotspots",
        "tab_data": "Data",
        "tab_about": "About",
        "m_incidents": "Incidents",
        "m_people_affected": "People affected",
        "m_children": "Children",
        "m_incidents_with_children": "Incidents with children",
        "help_with_children": "Incidents known to have affected children. The public release "
        "shows no number of people, and for some incidents it does not show whether children "
        "were affected: this is a lower bound.",
        "m_kidnapping_or_attempt": "Kidnappings and attempts",
        "m_people_kidnapped": "People kidnapped",
        "m_people_in_attempts": "People in attempts",
        "m_sexual_assault": "Incidents with sexual assault reported",
        "m_express_by_police": "Express kidnappings by police",
        "published": "Published: {value}",
        "published_note": "Published figures (at least): {source}",
        "unresolved_note": "{n} incident(s) in this selection could not be placed and are "
        "counted but not drawn.",
        "no_incidents": "No incident matches these filters.",
        "layer_heatmap": "Heatmap",
        "layer_incidents": "Incidents",
        "layer_areas": "Incidents placed by area",
        "layer_cities": "Incidents known by city only",
        "legend_title": "Legend",
        "zoom_in": "Zoom in",
        "zoom_out": "Zoom out",
        "fullscreen": "Full screen",
        "fullscreen_exit": "Leave full screen",
        "legend_heat": "Heatmap: where incidents concentrate",
        "legend_site": "Incidents at a public site (count)",
        "legend_area": "Incidents placed within an area (circle = uncertainty)",
        "legend_city": "Incidents known only by city",
        "popup_date": "Date",
        "popup_types": "Types",
        "popup_place": "Place",
        "popup_victims": "People",
        "popup_perpetrator": "Perpetrator",
        "popup_incidents": "Incidents",
        "popup_location": "Location",
        "chart_by_type": "Incidents per {period} by type",
        "chart_by_place": "Incidents per {period} by place type",
        "chart_by_perpetrator": "Incidents per {period} by perpetrator",
        "period_week": "week",
        "period_month": "month",
        "chart_period": "Group by",
        "axis_incidents": "Incidents",
        "chart_multi_type": "An incident with several types counts once under each type.",
        "chart_suppressed": "Dashed empty bars: fewer than {k} (drawn at {k} minus 1, an upper "
        "bound).",
        "release_note": "Public release: every count on this page is 0 or at least {k}, and so "
        "is what one selection holds that another does not (see About).",
        "release_suppressed": "{n} incidents are not in the public release.",
        "chart_left_out": "{n} incidents are published only by a period longer than a bar (or "
        "with no date) and are in no bar.",
        "chart_dim_type": "Type",
        "chart_dim_place": "Place type",
        "chart_dim_perpetrator": "Perpetrator",
        "axis_period": "Period",
        "hotspots_title": "Where is it dangerous now?",
        "hotspots_help": "Sites ranked by the incidents attributed to them (the place the report "
        "names) in the {days} days up to {end}; data through {through}. The interval is an exact "
        "95% Poisson interval: with so few incidents, ranks are uncertain.",
        "hotspots_radius": "Radius of the 'nearby' count (m)",
        "hotspots_no_previous": "The data start on {first}, inside the previous period: no change "
        "is shown, since it would measure missing records.",
        "loc_title": "Place locations (staff)",
        "loc_place": "Place",
        "loc_current": "Now: {confidence}, {lat}, {lon}",
        "loc_lat": "Latitude",
        "loc_lon": "Longitude",
        "loc_reason": "Why (how you know)",
        "loc_set": "Set location (a second staff member confirms it)",
        "loc_saved": "Saved. The public map uses it once another staff member confirms it.",
        "loc_pending": "Waiting for confirmation: {place}, set by {by}:",
        "loc_confirm": "Confirm this location",
        "loc_confirmed": "Confirmed: the public map now uses this location.",
        "verified_places": "**Staff-verified places** (set by one staff member, confirmed by "
        "another): {names}.",
        "none": "none",
        "listed_places": "Places without a map point (no public coordinate), with their incidents:",
        "card_count": "**{n}** incidents (95% interval {low}–{high})",
        "card_people": ", {people} people",
        "card_previous": "Previous {days} days: {n} ({change:+d})",
        "card_nearby": "{n} located within {radius} m of its point",
        "card_members": "One site: {names}",
        "card_tied": "Tied with {names}: the same number of incidents",
        "card_no_point": "No map point (approximate place): counted by name",
        "ranking_empty": "No site has incidents in this period.",
        "hotspots_period": "Period (days)",
        "col_site": "Site",
        "col_type": "Type",
        "col_city": "City",
        "col_incidents": "Incidents",
        "col_previous": "Previous period",
        "col_change": "Change",
        "col_interval": "95% interval",
        "col_people": "People",
        "col_rank": "Rank",
        "col_note": "Note",
        "tie_equal_counts": "Tied with {others}: the same number of incidents.",
        "tie_no_incidents": "",
        "gi_title": "Statistical hotspots (Getis-Ord Gi\\*)",
        "gi_run": "Compute Getis-Ord Gi* for this selection",
        "gi_help": "Tests whether incidents cluster in H3 cells more than chance would explain "
        "(permutation test, false-discovery-rate correction). Needs at least 30 incidents "
        "placed at a site or neighbourhood.",
        "withheld": "Fewer than {k} incidents match: in the public view their rows are not "
        "shown or downloadable, so that no one can be singled out. Widen the filters.",
        "gi_refused_generic": "too few precisely placed incidents, or too few connected map "
        "cells, for a reliable test.",
        "gi_detail_en": "Detail:",
        "table_limited": "Showing the first {n} rows; the downloads hold every selected row.",
        "gi_refused": "Not computed: {reason}",
        "gi_result": "{n} hex cell(s) are significant hotspots at a false-discovery rate of "
        "{alpha}.",
        "gi_none": "No hex cell is a significant hotspot at a false-discovery rate of {alpha}.",
        "data_table": "Filtered incidents (public columns)",
        "download_csv": "Download CSV",
        "download_geojson": "Download GeoJSON",
        "download_manifest": "Download manifest (JSON)",
        "data_dictionary": "Data dictionary",
        "rows": "{n} rows",
        "error_store": "The incident store could not be read: {error}",
        "restricted": "Restricted view",
        "public_view": "Public view",
        "login": "Log in (staff)",
        "logout": "Log out",
        "not_allowed": "{email} is not on the list of people allowed into the restricted view.",
        "not_verified": "Your login provider has not verified the e-mail {email}: the restricted "
        "view needs a verified address. Verify it with your provider, then log in again.",
        "restricted_note": "Restricted view: exact locations and free text are shown. Do not "
        "share screenshots or downloads from this view.",
        "download_package": "Download data package (zip)",
        "download_package_help": "The data with its Frictionless data package (datapackage.json: "
        "column types, allowed values, licence, sources, release report), the manifest and the "
        "data dictionary: what a data portal or HDX reads.",
        "cite_this": "Cite this: {citation}",
        "data_table_restricted": "Filtered incidents (restricted: every column, exact places)",
        "logout_everywhere": "Log out everywhere",
        "signed_out": "This login of {email} was ended (logged out in another tab or "
        "everywhere): the restricted view is closed. Log in again to reopen it.",
        "expired": "The login of {email} is older than {hours} hours: the restricted view is "
        "closed. Log in again to reopen it.",
        # --- the static public site (riskmap site)
        "site_index_title": "riskmap: public map",
        "site_language_name": "English",
        "site_all": "All data",
        "site_downloads": "Download the public release",
        "site_manifest": "manifest (JSON)",
        "site_datapackage": "data package (datapackage.json)",
        "site_take_away": "Take away",
        "site_live_app": "Filters, trends and hotspots: open the live dashboard",
        "site_release_note": "Public release: every count on this page is 0 or at least {k}.",
        "site_built": "A static copy of the public release built {when}.",
        # --- what people carry away (issue 16): embed, brief, feed, playback, basemap
        "embed_full_view": "Open the full view (filters, counts, downloads) ↗",
        "embed_frame_title": "riskmap: map of reported incidents",
        "embed_snippet": "Embed this map in a web page: paste this HTML (the map only, with its "
        "legend, its filters and a link to this view).",
        "brief_title": "{city}: where incidents against migrants were reported",
        "brief_subject": "Printable brief of reported incidents (riskmap)",
        "brief_period": "Period: {period}",
        "brief_headline": "{n} incidents reported in {city} in this period, {kidnap} of them "
        "kidnappings or attempts.",
        "brief_sites_title": "Places with the most incidents",
        "brief_site_count": "{n} incidents",
        "brief_interval": "with so few reports, the true number could be anywhere from {low} to "
        "{high}",
        "brief_uncertain": "The order is uncertain: treat every place on this list as dangerous.",
        "brief_no_sites": "No single place stands out in this period: the incidents are known by "
        "city or by area only (see the map).",
        "brief_map_note": "Circles: incidents there (dashed: known only by city). Numbers in white "
        "circles: the places listed. Squares: bridges, bus terminals, INM offices. A count below "
        "{k} is written <{k}.",
        "brief_unplaced": "{n} incidents could not be placed on the map and are counted above.",
        "brief_avoid_title": "What to avoid",
        "brief_avoid_1": "Do not wait alone at or near {places}, above all when you arrive.",
        "brief_avoid_none": "bridges, bus terminals and INM offices",
        "brief_avoid_2": "Do not accept rides, work or lodging from strangers who approach you "
        "there.",
        "brief_avoid_3": "Move in groups and in daylight; tell someone you trust where you are "
        "going.",
        "brief_avoid_4": "If you are threatened: 911 (emergencies) or 089 (anonymous report).",
        "brief_sources_title": "Where the data come from",
        "brief_sources": "riskmap's public release of reported incidents: every count is 0 or at "
        "least {k}, places and dates are generalised and no personal detail is shown.",
        "brief_qr": "Scan for the live map of this view:",
        "brief_no_qr": "The live map of this view is in the riskmap dashboard.",
        "brief_printed": "Printed {day} · riskmap {version}",
        "download_brief": "Printable brief (PDF)",
        "download_brief_help": "One page per city, for printing: ranked places, a small map, what "
        "to avoid, and a QR code back to this view.",
        "feed_title": "riskmap: reported incidents",
        "feed_subtitle": "Incidents of riskmap's public release, newest first: every count is 0 or "
        "at least {k}; places and dates are generalised; no personal detail.",
        "feed_place": "Place",
        "feed_area": "an area of {city} (~0.7 km² cell)",
        "feed_city": "{city} (known by city only)",
        "feed_undated": "date not shown",
        "feed_no_place": "place not shown",
        "play": "Time playback",
        "play_on": "Play over time",
        "play_help": "Show the map and the counts frame by frame, month by month (week by week "
        "when the data are that fine). The other filters apply to every frame.",
        "play_mode": "Frames",
        "play_mode_window": "Each period",
        "play_mode_cumulative": "Cumulative",
        "play_window": "Window (frames)",
        "play_speed": "Speed",
        "play_seconds": "{s} s a frame",
        "play_frame": "Frame",
        "play_start": "Play",
        "play_pause": "Pause",
        "play_week": "Week of {day}",
        "play_note": "Each frame counts as the same dates chosen as the period; an incident known "
        "only by quarter or year is in every frame its period touches.",
    },
    "es": {
        "title": "riskmap: violencia contra solicitantes de asilo en la frontera de Tamaulipas",
        "subtitle": "Incidentes reportados contra personas devueltas a México por el programa "
        "estadounidense 'Quédate en México' (MPP).",
        "synthetic_banner": "DATOS SINTÉTICOS: todos los incidentes son inventados para "
        "demostración; los totales coinciden con cifras publicadas, pero "
        "ningún registro es un hecho real.",
        "language": "Idioma",
        "filters": "Filtros",
        # --- la primera pantalla: fechas, resumen de filtros, enlaces, capas, leyenda del mapa
        "dates_from_only": "Desde el {start}: elija una fecha final para cerrar el rango.",
        "dates_swapped": "El inicio era posterior al final: se intercambiaron las dos fechas.",
        "dates_outside": "No hay datos en esas fechas: los datos van del {first} al {last}.",
        "dates_clamped": "Los datos van del {first} al {last}: el rango mostrado se recorta a "
        "esas fechas.",
        "data_through": "datos hasta el {day}",
        "showing": "Se muestra",
        "precision_week": "semana",
        "copy_link": "Copiar enlace a esta vista",
        "layers": "Capas del mapa",
        "layer_heat": "Mapa de calor",
        "layer_places": "Lugares de referencia",
        "legend_numbers": "Números: incidentes en ese lugar",
        "legend_fewer": "<{k}: menos de {k} incidentes (el número exacto se protege)",
        "legend_cluster": "Doble anillo: sitios cercanos agrupados a este zoom (\u00abn+\u00bb: "
        "al menos n); acerque el mapa para separarlos",
        "legend_mostly": "sobre todo",
        "group_kidnapping_any": "Secuestro o intento",
        "group_extortion_robbery": "Extorsión o robo",
        "group_violence": "Violencia física o sexual",
        "group_threat_other": "Amenaza u otro",
        "group_mixed": "Ningún tipo predomina",
        "protected_places": "Los incidentes en {kinds} están protegidos: la vista pública los "
        "cuenta solo en su ciudad, nunca en el lugar, así que este filtro no muestra ninguno. "
        "Quítelo para verlos en los conteos de la ciudad.",
        "published_short": "publicado: al menos {value}",
        "m_people_other": "Personas afectadas por otros incidentes",
        "synthetic_short": "DATOS SINTÉTICOS — no son hechos reales",
        "headers_es": "Encabezados de columna en español (códigos y valores sin cambios)",
        "choose": "Todos (elija para filtrar)",
        "period": "Periodo",
        "preset_all": "Todas las fechas",
        "preset_30": "Últimos 30 días de los datos",
        "preset_90": "Últimos 90 días de los datos",
        "preset_custom": "Rango personalizado",
        "span_all": "Todo",
        "span_last30": "30 días",
        "span_last90": "90 días",
        "span_month": "Mes",
        "span_custom": "Fechas",
        "month_pick": "Mes",
        "span_help": (
            "Todas las fechas, los últimos 30 o 90 días de los datos (hasta su último registro),"
            " un mes o las fechas que elija."
        ),
        "date_range": "Rango de fechas",
        "incident_types": "Tipos de incidente",
        "city": "Ciudad",
        "perpetrator": "Responsable",
        "place_type": "Tipo de lugar",
        "children_only": "Con menores afectados",
        "reset": "Quitar filtros",
        "share_link": "Para compartir esta vista, copie la dirección de la página: incluye "
        "todos los filtros.",
        "tab_map": "Mapa",
        "tab_trends": "Tendencias",
        "tab_hotspots": "Puntos de riesgo",
        "tab_data": "Datos",
        "tab_about": "Acerca de",
        "m_incidents": "Incidentes",
        "m_people_affected": "Personas afectadas",
        "m_children": "Menores",
        "m_incidents_with_children": "Incidentes con menores",
        "help_with_children": "Incidentes en los que se sabe que hubo menores afectados. La "
        "publicación pública no muestra números de personas y, en algunos incidentes, no "
        "muestra si hubo menores: es un mínimo.",
        "m_kidnapping_or_attempt": "Secuestros e intentos",
        "m_people_kidnapped": "Personas secuestradas",
        "m_people_in_attempts": "Personas en intentos",
        "m_sexual_assault": "Incidentes con agresión sexual reportada",
        "m_express_by_police": "Secuestros exprés por policías",
        "published": "Publicado: {value}",
        "published_note": "Cifras publicadas (al menos): {source}",
        "unresolved_note": "{n} incidente(s) de esta selección no se pudieron ubicar: se "
        "cuentan, pero no se dibujan.",
        "no_incidents": "Ningún incidente coincide con estos filtros.",
        "layer_heatmap": "Mapa de calor",
        "layer_incidents": "Incidentes",
        "layer_areas": "Incidentes ubicados por zona",
        "layer_cities": "Incidentes ubicados solo por ciudad",
        "legend_title": "Leyenda",
        "zoom_in": "Acercar",
        "zoom_out": "Alejar",
        "fullscreen": "Pantalla completa",
        "fullscreen_exit": "Salir de pantalla completa",
        "legend_heat": "Mapa de calor: dónde se concentran los incidentes",
        "legend_site": "Incidentes en un sitio público (número)",
        "legend_area": "Incidentes ubicados dentro de una zona (círculo = incertidumbre)",
        "legend_city": "Incidentes conocidos solo por ciudad",
        "popup_date": "Fecha",
        "popup_types": "Tipos",
        "popup_place": "Lugar",
        "popup_victims": "Personas",
        "popup_perpetrator": "Responsable",
        "popup_incidents": "Incidentes",
        "popup_location": "Ubicación",
        "chart_by_type": "Incidentes por {period} según tipo",
        "chart_by_place": "Incidentes por {period} según tipo de lugar",
        "chart_by_perpetrator": "Incidentes por {period} según responsable",
        "period_week": "semana",
        "period_month": "mes",
        "chart_period": "Agrupar por",
        "axis_incidents": "Incidentes",
        "chart_multi_type": "Un incidente con varios tipos cuenta una vez en cada tipo.",
        "chart_suppressed": "Barras vacías punteadas: menos de {k} (dibujadas en {k} menos 1, "
        "un máximo).",
        "release_note": "Publicación pública: todo conteo de esta página es 0 o al menos {k}, y "
        "también lo que una selección tiene y otra no (ver Acerca de).",
        "release_suppressed": "{n} incidentes no están en la publicación pública.",
        "chart_left_out": "{n} incidentes se publican solo por un periodo más largo que una barra "
        "(o sin fecha) y no están en ninguna barra.",
        "chart_dim_type": "Tipo",
        "chart_dim_place": "Tipo de lugar",
        "chart_dim_perpetrator": "Responsable",
        "axis_period": "Periodo",
        "hotspots_title": "¿Dónde es peligroso ahora?",
        "hotspots_help": "Sitios ordenados por los incidentes que se les atribuyen (el lugar que "
        "nombra el reporte) en los {days} días hasta el {end}; datos hasta el {through}. El "
        "intervalo es un intervalo de Poisson exacto al 95%: con tan pocos incidentes, el orden "
        "es incierto.",
        "hotspots_radius": "Radio del conteo 'cerca' (m)",
        "hotspots_no_previous": "Los datos empiezan el {first}, dentro del periodo anterior: no se "
        "muestra un cambio, porque mediría registros faltantes.",
        "loc_title": "Ubicación de lugares (personal)",
        "loc_place": "Lugar",
        "loc_current": "Ahora: {confidence}, {lat}, {lon}",
        "loc_lat": "Latitud",
        "loc_lon": "Longitud",
        "loc_reason": "Por qué (cómo lo sabe)",
        "loc_set": "Fijar ubicación (la confirma otra persona del personal)",
        "loc_saved": "Guardado. El mapa público la usa cuando otra persona del personal la "
        "confirme.",
        "loc_pending": "Esperando confirmación: {place}, fijada por {by}:",
        "loc_confirm": "Confirmar esta ubicación",
        "loc_confirmed": "Confirmada: el mapa público ya usa esta ubicación.",
        "verified_places": "**Lugares verificados por el personal** (fijados por una persona, "
        "confirmados por otra): {names}.",
        "none": "ninguno",
        "listed_places": "Lugares sin punto en el mapa (sin coordenada pública), con sus "
        "incidentes:",
        "card_count": "**{n}** incidentes (intervalo 95% {low}–{high})",
        "card_people": ", {people} personas",
        "card_previous": "{days} días anteriores: {n} ({change:+d})",
        "card_nearby": "{n} ubicados a menos de {radius} m de su punto",
        "card_members": "Un solo sitio: {names}",
        "card_tied": "Empate con {names}: el mismo número de incidentes",
        "card_no_point": "Sin punto en el mapa (lugar aproximado): contado por nombre",
        "ranking_empty": "Ningún sitio tiene incidentes en este periodo.",
        "hotspots_period": "Periodo (días)",
        "col_site": "Sitio",
        "col_type": "Tipo",
        "col_city": "Ciudad",
        "col_incidents": "Incidentes",
        "col_previous": "Periodo anterior",
        "col_change": "Cambio",
        "col_interval": "Intervalo 95%",
        "col_people": "Personas",
        "col_rank": "Lugar",
        "col_note": "Nota",
        "tie_equal_counts": "Empate con {others}: el mismo número de incidentes.",
        "tie_no_incidents": "",
        "gi_title": "Puntos calientes estadísticos (Getis-Ord Gi\\*)",
        "gi_run": "Calcular Gi* de Getis-Ord para esta selección",
        "gi_help": "Prueba si los incidentes se agrupan en celdas H3 más de lo que explicaría el "
        "azar (prueba de permutaciones, corrección por tasa de falsos descubrimientos). "
        "Requiere al menos 30 incidentes ubicados en un sitio o colonia.",
        "withheld": "Coinciden menos de {k} incidentes: en la vista pública sus filas no se "
        "muestran ni se descargan, para que nadie pueda ser identificado. Amplíe los filtros.",
        "gi_refused_generic": "hay muy pocos incidentes ubicados con precisión, o muy pocas "
        "celdas conectadas del mapa, para una prueba fiable.",
        "gi_detail_en": "Detalle técnico (en inglés):",
        "table_limited": "Se muestran las primeras {n} filas; las descargas incluyen todas las "
        "filas seleccionadas.",
        "gi_refused": "No calculado: {reason}",
        "gi_result": "{n} celda(s) hexagonal(es) son puntos calientes significativos con una "
        "tasa de falsos descubrimientos de {alpha}.",
        "gi_none": "Ninguna celda es un punto caliente significativo con una tasa de falsos "
        "descubrimientos de {alpha}.",
        "data_table": "Incidentes filtrados (columnas públicas)",
        "download_csv": "Descargar CSV",
        "download_geojson": "Descargar GeoJSON",
        "download_manifest": "Descargar manifiesto (JSON)",
        "data_dictionary": "Diccionario de datos",
        "rows": "{n} filas",
        "error_store": "No se pudo leer el almacén de incidentes: {error}",
        "restricted": "Vista restringida",
        "public_view": "Vista pública",
        "login": "Iniciar sesión (personal)",
        "logout": "Cerrar sesión",
        "not_verified": "Su proveedor de inicio de sesión no ha verificado el correo {email}: la "
        "vista restringida necesita una dirección verificada. Verifíquela con su proveedor y "
        "vuelva a iniciar sesión.",
        "not_allowed": "{email} no está en la lista de personas autorizadas para la vista "
        "restringida.",
        "restricted_note": "Vista restringida: se muestran ubicaciones exactas y texto libre. "
        "No comparta capturas ni descargas de esta vista.",
        "download_package": "Descargar paquete de datos (zip)",
        "download_package_help": "Los datos con su paquete de datos Frictionless "
        "(datapackage.json: tipos de columna, valores permitidos, licencia, fuentes, informe de "
        "la publicación), el manifiesto y el diccionario de datos: lo que lee un portal de datos "
        "o HDX.",
        "cite_this": "Cómo citar: {citation}",
        "data_table_restricted": "Incidentes filtrados (restringido: todas las columnas, lugares "
        "exactos)",
        "logout_everywhere": "Cerrar sesión en todas partes",
        "signed_out": "Este inicio de sesión de {email} terminó (se cerró la sesión en otra "
        "pestaña o en todas partes): la vista restringida está cerrada. Inicie sesión de nuevo "
        "para abrirla.",
        "expired": "El inicio de sesión de {email} tiene más de {hours} horas: la vista "
        "restringida está cerrada. Inicie sesión de nuevo para abrirla.",
        # --- el sitio público estático (riskmap site)
        "site_index_title": "riskmap: mapa público",
        "site_language_name": "Español",
        "site_all": "Todos los datos",
        "site_downloads": "Descargar la publicación pública",
        "site_manifest": "manifiesto (JSON)",
        "site_datapackage": "paquete de datos (datapackage.json)",
        "site_take_away": "Para llevar",
        "site_live_app": "Filtros, tendencias y puntos críticos: abra el tablero en vivo",
        "site_release_note": "Publicación pública: todo conteo de esta página es 0 o al menos {k}.",
        "site_built": "Copia estática de la publicación pública generada el {when}.",
        # --- lo que la gente se lleva (issue 16): insertar, hoja, canal, animación, mapa base
        "embed_full_view": "Abrir la vista completa (filtros, cifras, descargas) ↗",
        "embed_frame_title": "riskmap: mapa de incidentes reportados",
        "embed_snippet": "Insertar este mapa en una página web: pegue este HTML (solo el mapa, "
        "con su leyenda, sus filtros y un enlace a esta vista).",
        "brief_title": "{city}: dónde se reportaron incidentes contra personas migrantes",
        "brief_subject": "Hoja imprimible de incidentes reportados (riskmap)",
        "brief_period": "Periodo: {period}",
        "brief_headline": "{n} incidentes reportados en {city} en este periodo; {kidnap} de ellos "
        "son secuestros o intentos.",
        "brief_sites_title": "Lugares con más incidentes",
        "brief_site_count": "{n} incidentes",
        "brief_interval": "con tan pocos reportes, la cifra real podría estar entre {low} y {high}",
        "brief_uncertain": "El orden es incierto: considere peligroso cada lugar de esta lista.",
        "brief_no_sites": "Ningún lugar destaca en este periodo: los incidentes se conocen solo "
        "por ciudad o por zona (vea el mapa).",
        "brief_map_note": "Círculos: incidentes en ese punto (punteados: conocidos solo por "
        "ciudad). Números en círculos blancos: los lugares de la lista. Cuadros: puentes, "
        "centrales de autobuses, oficinas del INM. Una cifra menor que {k} se escribe <{k}.",
        "brief_unplaced": "{n} incidentes no se pudieron ubicar en el mapa y se cuentan arriba.",
        "brief_avoid_title": "Qué evitar",
        "brief_avoid_1": "No espere solo ni sola en {places} ni cerca, sobre todo al llegar.",
        "brief_avoid_none": "puentes, centrales de autobuses y oficinas del INM",
        "brief_avoid_2": "No acepte aventones, trabajo ni alojamiento de desconocidos que se le "
        "acerquen ahí.",
        "brief_avoid_3": "Muévase en grupo y de día; dígale a alguien de confianza a dónde va.",
        "brief_avoid_4": "Si lo amenazan: 911 (emergencias) o 089 (denuncia anónima).",
        "brief_sources_title": "De dónde vienen los datos",
        "brief_sources": "La publicación pública de riskmap de incidentes reportados: toda cifra "
        "es 0 o al menos {k}, los lugares y las fechas se generalizan y no se muestra ningún dato "
        "personal.",
        "brief_qr": "Escanee para ver el mapa en vivo de esta vista:",
        "brief_no_qr": "El mapa en vivo de esta vista está en el tablero de riskmap.",
        "brief_printed": "Impreso el {day} · riskmap {version}",
        "download_brief": "Hoja imprimible (PDF)",
        "download_brief_help": "Una página por ciudad, para imprimir: lugares ordenados, un mapa "
        "pequeño, qué evitar y un código QR que vuelve a esta vista.",
        "feed_title": "riskmap: incidentes reportados",
        "feed_subtitle": "Incidentes de la publicación pública de riskmap, los más recientes "
        "primero: toda cifra es 0 o al menos {k}; lugares y fechas generalizados; ningún dato "
        "personal.",
        "feed_place": "Lugar",
        "feed_area": "una zona de {city} (celda de ~0.7 km²)",
        "feed_city": "{city} (se conoce solo la ciudad)",
        "feed_undated": "fecha no mostrada",
        "feed_no_place": "lugar no mostrado",
        "play": "Animación en el tiempo",
        "play_on": "Reproducir en el tiempo",
        "play_help": "Muestra el mapa y las cifras cuadro por cuadro, mes por mes (semana por "
        "semana cuando los datos son así de finos). Los demás filtros se aplican a cada cuadro.",
        "play_mode": "Cuadros",
        "play_mode_window": "Cada periodo",
        "play_mode_cumulative": "Acumulado",
        "play_window": "Ventana (cuadros)",
        "play_speed": "Velocidad",
        "play_seconds": "{s} s por cuadro",
        "play_frame": "Cuadro",
        "play_start": "Reproducir",
        "play_pause": "Pausa",
        "play_week": "Semana del {day}",
        "play_note": "Cada cuadro cuenta como las mismas fechas elegidas como periodo; un "
        "incidente conocido solo por trimestre o año está en cada cuadro que toca su periodo.",
    },
}


def t(key: str, lang: str, **values: object) -> str:
    """Return the text for ``key`` in ``lang``, formatted with ``values``.

    Raises
    ------
    KeyError
        If ``key`` has no text in ``lang`` (a bug: every key exists in both languages).
    """
    return STRINGS[lang][key].format(**values) if values else STRINGS[lang][key]


def label(value: object, lang: str) -> str:
    """Return the display label of a vocabulary value (the value itself if it has none)."""
    return VALUE_LABELS[lang].get(str(value), str(value))


def normalize_language(value: object) -> str:
    """Return a supported language code, defaulting to Spanish."""
    text = str(value or "").strip().lower()[:2]
    return text if text in LANGUAGES else DEFAULT_LANGUAGE


# --- the staff workspace: record, review, edit, upload, audit (restricted view only) ----------
_WORKSPACE: dict[str, dict[str, str]] = {
    "en": {
        "ws_title": "Staff workspace",
        "ws_intro": "Record incidents, review them and publish them. Nothing reaches the public "
        "view until a second staff member approves it; every step is in the audit log.",
        "ws_section": "Section",
        "ws_record": "Record an incident",
        "ws_review": "Review queue",
        "ws_edit": "Edit",
        "ws_upload": "Upload a spreadsheet",
        "ws_audit": "Audit log",
        "ws_date": "Date",
        "ws_precision": "Date known to the",
        "ws_precision_day": "day",
        "ws_precision_month": "month only",
        "ws_not_known": "(not known)",
        "ws_victims": "People affected",
        "ws_children": "Children among them",
        "ws_city_none": "(choose a city)",
        "ws_location": "Place description (as told: 'outside the Central Camionera')",
        "ws_did_you_mean": "Did you mean {name}?",
        "ws_place": "Place",
        "ws_place_auto": "As the geocoder places the description",
        "ws_map": "Or click on the map where it happened",
        "ws_map_help": (
            "A point chosen on the map is kept at neighbourhood precision (staff see it; the "
            "public sees its area only). A place chosen above wins over it."
        ),
        "ws_point": "Point on the map: {lat:.6f}, {lon:.6f}",
        "ws_point_clear": "Clear the point",
        "ws_point_marker": "The incident's point",
        "ws_source": "Source",
        "ws_notes": "Notes (staff only)",
        "ws_send": "Send for review now (otherwise keep it as a draft)",
        "ws_save": "Save the record",
        "ws_not_saved": "Nothing was saved. Please fix:",
        "ws_saved": "Saved {id} ({status}).",
        "status_draft": "draft",
        "status_in_review": "in review",
        "status_published": "published",
        "status_rejected": "rejected",
        "status_retracted": "retracted",
        "ws_counts": "In the store: {counts}",
        "ws_queue_empty": "Nothing waits for review.",
        "ws_kind_new": "new record",
        "ws_kind_edit": "edit of a published incident",
        "ws_submitted": "submitted by {by} on {at}",
        "ws_geocoding": "Geocoding: {place} — precision {precision} — point {point}",
        "ws_no_point": "none",
        "ws_changes": "Proposed changes:",
        "ws_duplicates": "Possible duplicates (same day, place and type): {ids}",
        "ws_comment": "Comment (required to send back)",
        "ws_approve": "Approve and publish",
        "ws_send_back": "Send back",
        "ws_reject": "Reject",
        "ws_own": "You are an author of this record: a second staff member must approve it "
        "(two-person rule).",
        "ws_not_publisher": "You may not publish (RISKMAP_PUBLISHERS).",
        "ws_done": "{id}: {action} done ({status}).",
        "ws_drafts": "Drafts",
        "ws_submit": "Send for review",
        "ws_edit_pick": "Incident to edit",
        "ws_edit_status": "Status: {status}, version {version}.",
        "ws_edit_held": "This incident is published: your edit waits for a second staff member's "
        "approval, and the public keeps the published version until then.",
        "ws_edit_pending": "An edit of this incident already waits for review.",
        "ws_edit_save": "Save the edit",
        "ws_edit_none": "Nothing changed.",
        "ws_retract_reason": "Why retract it (required)",
        "ws_retract": "Retract from the public view",
        "ws_upload_file": "Spreadsheet (CSV, XLSX or GeoJSON)",
        "ws_import": "Import (rows wait for review)",
        "ws_import_counts": "{name}: read {read}, imported {imported} (waiting for review), "
        "quarantined {quarantined}, already in the store {duplicates}.",
        "ws_quarantine_download": "Download the quarantined rows (CSV)",
        "ws_audit_pick": "Incident",
        "ws_audit_all": "(every incident)",
        "ws_audit_download": "Download the audit log (CSV)",
        "ws_audit_note": "The audit log is append-only: nothing here can change it.",
    },
    "es": {
        "ws_title": "Espacio de trabajo del personal",
        "ws_intro": "Registre incidentes, revíselos y publíquelos. Nada llega a la vista pública "
        "hasta que otra persona del personal lo aprueba; cada paso queda en el registro de "
        "auditoría.",
        "ws_section": "Sección",
        "ws_record": "Registrar un incidente",
        "ws_review": "Cola de revisión",
        "ws_edit": "Editar",
        "ws_upload": "Subir una hoja de cálculo",
        "ws_audit": "Registro de auditoría",
        "ws_date": "Fecha",
        "ws_precision": "Fecha conocida al",
        "ws_precision_day": "día",
        "ws_precision_month": "mes solamente",
        "ws_not_known": "(no se sabe)",
        "ws_victims": "Personas afectadas",
        "ws_children": "Niñas y niños entre ellas",
        "ws_city_none": "(elija una ciudad)",
        "ws_location": "Descripción del lugar (como se contó: 'afuera de la Central Camionera')",
        "ws_did_you_mean": "¿Quiso decir {name}?",
        "ws_place": "Lugar",
        "ws_place_auto": "Como el geocodificador ubica la descripción",
        "ws_map": "O haga clic en el mapa donde ocurrió",
        "ws_map_help": (
            "Un punto elegido en el mapa se guarda con precisión de colonia (el personal lo ve; "
            "el público solo ve su zona). Un lugar elegido arriba tiene prioridad."
        ),
        "ws_point": "Punto en el mapa: {lat:.6f}, {lon:.6f}",
        "ws_point_clear": "Quitar el punto",
        "ws_point_marker": "El punto del incidente",
        "ws_source": "Fuente",
        "ws_notes": "Notas (solo personal)",
        "ws_send": "Enviar a revisión ahora (si no, se guarda como borrador)",
        "ws_save": "Guardar el registro",
        "ws_not_saved": "No se guardó nada. Corrija:",
        "ws_saved": "Se guardó {id} ({status}).",
        "status_draft": "borrador",
        "status_in_review": "en revisión",
        "status_published": "publicado",
        "status_rejected": "rechazado",
        "status_retracted": "retirado",
        "ws_counts": "En el almacén: {counts}",
        "ws_queue_empty": "Nada espera revisión.",
        "ws_kind_new": "registro nuevo",
        "ws_kind_edit": "edición de un incidente publicado",
        "ws_submitted": "enviado por {by} el {at}",
        "ws_geocoding": "Geocodificación: {place} — precisión {precision} — punto {point}",
        "ws_no_point": "ninguno",
        "ws_changes": "Cambios propuestos:",
        "ws_duplicates": "Posibles duplicados (mismo día, lugar y tipo): {ids}",
        "ws_comment": "Comentario (obligatorio para devolver)",
        "ws_approve": "Aprobar y publicar",
        "ws_send_back": "Devolver",
        "ws_reject": "Rechazar",
        "ws_own": "Usted es autor o autora de este registro: otra persona del personal debe "
        "aprobarlo (regla de dos personas).",
        "ws_not_publisher": "Usted no puede publicar (RISKMAP_PUBLISHERS).",
        "ws_done": "{id}: {action} hecho ({status}).",
        "ws_drafts": "Borradores",
        "ws_submit": "Enviar a revisión",
        "ws_edit_pick": "Incidente a editar",
        "ws_edit_status": "Estado: {status}, versión {version}.",
        "ws_edit_held": "Este incidente está publicado: su edición espera la aprobación de otra "
        "persona del personal, y el público sigue viendo la versión publicada hasta entonces.",
        "ws_edit_pending": "Ya hay una edición de este incidente esperando revisión.",
        "ws_edit_save": "Guardar la edición",
        "ws_edit_none": "No cambió nada.",
        "ws_retract_reason": "Por qué se retira (obligatorio)",
        "ws_retract": "Retirar de la vista pública",
        "ws_upload_file": "Hoja de cálculo (CSV, XLSX o GeoJSON)",
        "ws_import": "Importar (las filas esperan revisión)",
        "ws_import_counts": "{name}: leídas {read}, importadas {imported} (esperan revisión), "
        "en cuarentena {quarantined}, ya en el almacén {duplicates}.",
        "ws_quarantine_download": "Descargar las filas en cuarentena (CSV)",
        "ws_audit_pick": "Incidente",
        "ws_audit_all": "(todos los incidentes)",
        "ws_audit_download": "Descargar el registro de auditoría (CSV)",
        "ws_audit_note": "El registro de auditoría solo admite añadidos: nada aquí puede "
        "cambiarlo.",
    },
}
for _lang in LANGUAGES:
    STRINGS[_lang].update(_WORKSPACE[_lang])
