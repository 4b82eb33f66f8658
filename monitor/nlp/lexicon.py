"""Hand-written Italian word lists the rules rely on.

Everything is lower case; callers lower-case before looking up. The speech and event verb
forms live in `verbs.py` (generated once from morph-it, plus hand additions).
"""

from __future__ import annotations


def wordset(text: str) -> frozenset[str]:
    """The whitespace-separated words of a literal, as a set (keeps long lists readable)."""
    return frozenset(text.split())

# Capitalised at a sentence start these look like names but are not: they must never be read as
# the first name of "another person" before a tracked surname ("Secondo Musk", "Ieri Altman").
FUNCTION_WORDS = wordset("""
a ad al allo alla ai agli alle all anche ancora allora altri altro adesso ammesso appena
b c che chi ci ciò come con contro col coi così cosa cui d da dal dallo dalla dai dagli dalle
davanti del dello della dei degli delle di dopo dove dunque durante e ed ecco eppure era fra
frattanto già gli ha hanno i ieri il in infatti infine inoltre insomma intanto invece io
l la le lei li lo loro lui ma mai malgrado mentre mezzo mi ne né negli nei nel nella nelle
nello nemmeno neanche neppure no noi non nonostante nostro o oggi ogni oltre oppure ora
ovviamente per perché perciò perfino persino più poi pure proprio qua quale quando quanto
quasi quello questo qui quindi se secondo sempre senza si sia sì solo soltanto sopra sotto
stamani stamattina stanotte stasera stavolta su sua sue sui sul sull sulla sulle suo suoi
tale tanto tra tu tuttavia tutti tutto un una uno vi voi
lunedì martedì mercoledì giovedì venerdì sabato domenica
gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre
caro cara cari signor signore signora dottor dottore dottoressa professor professore
presidente ministro ceo ad fondatore cofondatore patron ex neo vice
""")

# Prepositions (and articulated forms) that mark a name as a complement, not a subject.
PREPOSITIONS = wordset("""
a ad al allo alla ai agli alle all di d del dello della dei degli delle dell da dal dallo
dalla dai dagli dalle dall in nel nello nella nei negli nelle nell su sul sullo sulla sui
sugli sulle sull con col coi per tra fra verso contro presso secondo durante dopo prima
senza oltre tramite via circa
""")

ARTICLES = wordset("il lo la l i gli le un uno una un'")

# Words that may stand between a subject and its verb without breaking the link.
ADVERBS = wordset("""
poi anche invece già ancora non ieri oggi stesso stessa
subito infine inoltre intanto allora ora sempre più mai però pure addirittura perfino
persino nuovamente spesso quindi dunque infatti comunque così tuttavia evidentemente
sera mattina pomeriggio notte stamattina stasera domenica sabato lunedì martedì
mercoledì giovedì venerdì
""")

# Clitic pronouns between a subject and its verb ("Musk si è detto", "gli ha risposto").
CLITICS = wordset("si ne ci mi ti vi gli lo la le li")

AUXILIARIES = wordset("""
ha hanno aveva avevano avrebbe avrebbero avrà avranno ebbe ebbero abbia abbiano
è sono era erano sarebbe sarebbero sarà saranno fu furono sia siano stato stata stati state
viene vengono veniva venivano verrà verranno venne vennero
""")
CONDITIONAL_AUX = wordset("avrebbe avrebbero sarebbe sarebbero")

# Nouns for people that a text can use instead of the name of the person it is about.
ROLE_NOUNS = wordset("""
manager miliardario miliardaria imprenditore imprenditrice fondatore fondatrice cofondatore
cofondatrice ricercatore ricercatrice scienziato scienziata ceo amministratore amministratrice
presidente dirigente patron magnate informatico informatica ingegnere ingegnera investitore
investitrice numero capo leader direttore direttrice chief cto cfo coo ad
""")

# Who speaks for an organisation: "un portavoce di OpenAI" speaks for OpenAI.
SPOKES_NOUNS = wordset("""
portavoce spokesperson spokesman spokeswoman rappresentante ufficio nota comunicato azienda società
startup compagnia gruppo company vertici management
""")

# Reported speech whose source is not a speaker but a rumour: the claim is unconfirmed.
RUMOUR_HEADS = wordset("""
indiscrezioni indiscrezione fonti fonte segnalazioni voci rumors rumor report rapporto
quanto stampa media alcuni alcune molti molte diversi diverse analisti osservatori esperti
""")

# Abbreviations after which a full stop does not end a sentence.
ABBREVIATIONS = wordset("""
dott dott.ssa sig sig.ra sig.na ing avv prof prof.ssa on sen arch geom rag dr mr mrs ms st
gen col mons p pag pp vol cap art n nr no tel ca cfr ecc etc es ex fig sec sgg spa s.p.a
srl s.r.l inc ltd corp co jr sr vs
""")

# Channels and platforms: never speakers ("su X", "in una nota").
PLATFORMS = wordset("x twitter facebook instagram threads linkedin truth tiktok youtube")

# Channels a statement is made in ("ha precisato in una nota", "ha scritto in un post").
CHANNEL_NOUNS = wordset("""
nota note comunicato comunicati post intervista lettera messaggio tweet video conferenza podcast
blog diretta dichiarazione email mail thread live evento palco audizione udienza storia storie
""")

# Page furniture before a colon: links and section labels, never speakers ("LEGGI ANCHE: «…»").
FURNITURE = frozenset(("leggi anche", "leggi", "vedi", "vedi anche", "guarda", "guarda anche", "ascolta",
                       "approfondisci", "potrebbe interessarti", "correlati", "articoli correlati"))

# Nouns for something said: "la replica di Breton:", "il commento di Altman:".
SPEECH_NOUNS = wordset("""
commento commenti parole dichiarazione dichiarazioni intervento replica risposta posizione messaggio
post tweet reazione affondo monito appello opinione frase battuta annuncio promessa conclusione parola
""")

# Time nouns before "dopo"/"prima"/"fa": "Poche ore dopo Altman ha risposto" (an adverbial).
TIME_NOUNS = wordset("""
ore ora minuti minuto giorni giorno settimane settimana mesi mese anni anno poco tempo istanti
attimi secondi
""")

# Nouns that name a person who can speak, beyond the roles used for protagonists.
PERSON_NOUNS = ROLE_NOUNS | wordset("""
avvocato avvocata legale legali ministro ministra giudice analista analisti esperto esperta
docente professore professoressa dottorando dottoranda studente studentessa sindaco deputato
deputata senatore senatrice giornalista fonte fonti portavoce economista commissario commissaria
segretario segretaria governatore governatrice consigliere consigliera dipendente dipendenti
ricercatori funzionario funzionaria procuratore procuratrice garante autorità rappresentante
magistrato magistrata presidente premier
""")

# Definite nouns that refer back to the last speaker ("racconta la studentessa", "aggiunge l'azienda").
ANAPHOR_PERSON = PERSON_NOUNS | wordset("""
stesso stessa premier tennista campione campionessa allenatore allenatrice giocatore giocatrice atleta
cantante attore attrice scrittore scrittrice regista pilota politico politica leader giudice modella
studente studentessa madre padre figlio figlia fratello sorella moglie marito donna uomo ragazzo ragazza
""")
ANAPHOR_ORG = wordset("azienda società organizzazione startup compagnia gruppo colosso")
