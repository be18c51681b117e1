"""Words the search knows without any offer: stop words and everyday words for each category.

Both lists cover all ten languages (de en uk ru ar fa ps tr ku ti). They are machine-assisted, like
the message catalogs, and were checked for plausibility, not by native speakers of every language;
corrections are welcome. Spelling variants need not be listed: the search folds case, umlauts,
accents, Arabic letter forms and the Arabic article, and tolerates typos and word endings. Latin
spellings people type on a phone without their own keyboard (transliterations) are listed too.
"""

from __future__ import annotations

# Words that say nothing about what someone looks for: greetings, pronouns, articles, prepositions,
# "I need", "where is", "problem". A query of only these matches nothing.
STOP_WORDS: dict[str, str] = {
    "de": (
        "hallo guten tag morgen abend servus moin der die das den dem des ein eine einen einem einer "
        "und oder aber mit von vom zu zum zur im in am an auf aus bei fuer ueber um nach vor ich du er "
        "sie es wir ihr mich mir mein meine meinen meinem meiner dich dir sein seine ihre unser bitte "
        "danke suche suchen brauche brauchen moechte will wollen habe haben hat ist bin sind war gibt "
        "wo wie was wer wann welche welcher kann koennen können hier da dort auch noch nicht kein keine "
        "sehr gern gerne problem probleme hilfe helfen frage fragen jemand etwas mal bitte"
    ),
    "en": (
        "hello hi hey good morning evening a an and or but the for of in on at to from with by about "
        "into i me my mine you your he she it we our they their is are am was be been have has had do "
        "does need needs want looking look find search where how what who when which can could would "
        "please thanks thank help problem problems question some any there here this that not no very"
    ),
    "uk": (
        "привіт добрий день вечір доброго і й та або але в у на до з із від для по про за під над при "
        "я мені мене мій моя моє мої ти ти тебе він вона воно ми нас нам ви вас вони їх це цей ця то "
        "шукаю шукати потрібен потрібна потрібно треба хочу маю є був була де як що хто коли який яка "
        "можна можу будь ласка дякую допомога допоможіть проблема проблеми питання номер"
    ),
    "ru": (
        "привет здравствуйте добрый день вечер и или но а в во на к ко с со из от для по про за под над "
        "при у о об я мне меня мой моя моё мои ты тебя он она оно мы нас нам вы вас они их это этот эта "
        "ищу искать нужен нужна нужно надо хочу хотел есть был была где как что кто когда какой какая "
        "можно могу пожалуйста спасибо помощь помогите проблема проблемы вопрос номер"
    ),
    "ar": (
        "مرحبا السلام سلام عليكم اهلا صباح مساء الخير في من الى إلى على عن مع و او أو ثم لكن هذا هذه "
        "ذلك تلك هناك هنا انا أنا انت أنت هو هي نحن هم لي عندي لدي اريد أريد ابحث أبحث احتاج أحتاج "
        "بحاجة اين أين كيف ماذا ما من متى هل يوجد ممكن من فضلك لو سمحت شكرا مساعدة ساعدني مشكلة مشاكل "
        "سؤال رقم"
    ),
    "fa": (
        "سلام درود صبح بخیر روز و یا اما در از به با برای را تا که این آن اینجا آنجا من تو او ما شما "
        "آنها ایشان است هست هستم بود دارم داری دارد میخواهم می‌خواهم خواهم لازم دنبال میگردم می‌گردم "
        "کجا چطور چگونه چه چی کی کدام آیا لطفا لطفاً ممنون مرسی کمک مشکل مشکلات سوال شماره یک"
    ),
    "ps": (
        "سلام ستړي مه شې پخیر د په او یا خو له ته سره کې چې دا هغه دلته هلته زه ما مې ته ته دی هغه "
        "موږ تاسو دوی ده دي وو غواړم اړتیا لټوم لټه چېرته څنګه څه څوک کله کوم ایا مهرباني مننه "
        "مرسته ستونزه ستونزې پوښتنه شمېره یو"
    ),
    "tr": (
        "merhaba selam günaydın iyi günler akşamlar ve veya ya ama fakat ile için gibi de da bu şu o "
        "bir ben beni bana benim sen seni sana senin biz bize siz onlar var yok mi mı mu mü ne nerede "
        "nasıl kim ne zaman hangi lütfen teşekkürler sağol arıyorum istiyorum lazım gerek ihtiyacım "
        "yardım sorun sorunum problem soru numara numaram"
    ),
    "ku": (
        "silav merheba roj baş spas û an lê bi di de ji li ku ya yê yên ez min te tu ew wî wê em me "
        "hûn we wan ev vê vî heye tune dixwazim digerim lazim hewce kû çawa çi kî kengî kîjan ji kerema "
        "xwe alîkarî pirsgirêk pirs hejmar yek"
    ),
    "ti": (
        "ሰላም ከመይ ኣለኹም ደሓን ምሸት ንግሆ ናይ ኣብ ን ምስ ካብ ክሳብ ብ እዩ እያ እዮም ኣሎ ኣለኹ ኣሎኒ የብለይ ኣነ ንስኻ "
        "ንስኺ ንሱ ንሳ ንሕና ንስኻትኩም ንሳቶም እዚ እዛ እቲ እታ ኣበይ ከመይ እንታይ መን መዓስ ኣየናይ ይደሊ እደሊ "
        "ይደልዮ የድልየኒ በጃኹም የቐንየለይ ሓገዝ ጸገም ሕቶ ቁጽሪ ሓደ"
    ),
}

# Everyday words people use for each category, per language (several words make one phrase).
CATEGORY_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "language": {
        "de": ("Deutsch", "Deutschkurs", "Sprachkurs", "Sprache", "Kurs", "lernen", "Unterricht"),
        "en": ("German", "language", "course", "class", "lessons", "learn", "learning"),
        "uk": ("німецька", "німецької", "мова", "мови", "курс", "курси", "урок", "вивчати"),
        "ru": ("немецкий", "немецкого", "язык", "языка", "курс", "курсы", "урок", "учить"),
        "ar": ("ألمانية", "الالماني", "لغة", "دورة", "دروس", "تعلم", "كورس", "almani", "kurs"),
        "fa": ("آلمانی", "زبان", "کلاس", "دوره", "کورس", "یادگیری", "آموزش"),
        "ps": ("جرمني", "ژبه", "ژبې", "کورس", "ټولګی", "زده کړه"),
        "tr": ("Almanca", "dil", "kurs", "kursu", "ders", "öğrenmek", "sınıf"),
        "ku": ("almanî", "ziman", "qurs", "qursa", "ders", "fêrbûn"),
        "ti": ("ጀርመንኛ", "ቋንቋ", "ኮርስ", "ትምህርቲ", "ምምሃር"),
    },
    "work": {
        "de": ("Arbeit", "Job", "Arbeitsstelle", "Stelle", "Beruf", "Ausbildung", "Bewerbung", "arbeiten"),
        "en": ("work", "job", "employment", "career", "apprenticeship", "application", "CV"),
        "uk": ("робота", "роботу", "працювати", "вакансія", "професія", "резюме"),
        "ru": ("работа", "работу", "работать", "вакансия", "профессия", "резюме"),
        "ar": ("عمل", "شغل", "وظيفة", "مهنة", "تدريب مهني", "سيرة ذاتية", "arbeit"),
        "fa": ("کار", "شغل", "استخدام", "حرفه", "رزومه", "کارآموزی"),
        "ps": ("کار", "دنده", "بوخت", "مسلک", "رزومه"),
        "tr": ("iş", "çalışmak", "meslek", "eleman", "başvuru", "özgeçmiş"),
        "ku": ("kar", "xebat", "karkirin", "pîşe", "serlêdan"),
        "ti": ("ስራሕ", "ሞያ", "ምስራሕ", "ቅጥሪ"),
    },
    "housing": {
        "de": ("Wohnung", "Wohnen", "Miete", "Vermieter", "Zimmer", "Haus", "Unterkunft", "Nebenkosten"),
        "en": ("flat", "apartment", "housing", "home", "rent", "landlord", "room", "house"),
        "uk": ("житло", "квартира", "квартиру", "оренда", "орендодавець", "кімната", "будинок"),
        "ru": ("жильё", "квартира", "квартиру", "аренда", "арендодатель", "хозяин", "комната", "дом"),
        "ar": ("سكن", "شقة", "بيت", "منزل", "ايجار", "إيجار", "مؤجر", "غرفة", "wohnung"),
        "fa": ("خانه", "مسکن", "آپارتمان", "اجاره", "صاحبخانه", "اتاق"),
        "ps": ("کور", "استوګنځی", "اپارتمان", "کرایه", "د کور خاوند", "کوټه"),
        "tr": ("ev", "daire", "konut", "kira", "ev sahibi", "oda"),
        "ku": ("xanî", "mal", "kirê", "xwediyê xanî", "ode"),
        "ti": ("ገዛ", "መንበሪ", "ክራይ", "ዋና ገዛ", "ክፍሊ"),
    },
    "health": {
        "de": ("Arzt", "Ärztin", "Doktor", "Krankenhaus", "krank", "Gesundheit", "Praxis", "Notfall"),
        "en": ("doctor", "GP", "hospital", "sick", "ill", "health", "clinic", "medicine", "emergency"),
        "uk": ("лікар", "лікаря", "лікарня", "хворий", "здоров'я", "ліки", "швидка"),
        "ru": ("врач", "врача", "доктор", "больница", "болею", "здоровье", "лекарство", "скорая"),
        "ar": ("طبيب", "دكتور", "مستشفى", "مريض", "صحة", "دواء", "عيادة", "طوارئ", "doktor", "tabib"),
        "fa": ("دکتر", "پزشک", "بیمارستان", "مریض", "بیمار", "سلامت", "دارو"),
        "ps": ("ډاکټر", "روغتون", "ناروغ", "روغتیا", "درمل"),
        "tr": ("doktor", "hekim", "hastane", "hasta", "sağlık", "ilaç", "acil"),
        "ku": ("bijîşk", "doktor", "nexweşxane", "nexweş", "tenduristî", "derman"),
        "ti": ("ሓኪም", "ሆስፒታል", "ሕሙም", "ጥዕና", "መድሃኒት"),
    },
    "children": {
        "de": ("Kind", "Kinder", "Kita", "Kindergarten", "Krippe", "Schule", "Betreuung", "Hausaufgaben"),
        "en": ("child", "children", "kids", "kindergarten", "nursery", "daycare", "school", "childcare"),
        "uk": ("дитина", "діти", "дитячий садок", "садочок", "школа", "ясла"),
        "ru": ("ребёнок", "дети", "детский сад", "детсад", "садик", "школа", "ясли"),
        "ar": ("طفل", "أطفال", "روضة", "حضانة", "مدرسة", "kita"),
        "fa": ("بچه", "کودک", "مهدکودک", "مهد", "مدرسه", "کودکستان"),
        "ps": ("ماشوم", "ماشومان", "وړکتون", "ښوونځی"),
        "tr": ("çocuk", "çocuklar", "kreş", "anaokulu", "okul"),
        "ku": ("zarok", "zarokan", "baxçeya zarokan", "dibistan"),
        "ti": ("ቆልዓ", "ቆልዑ", "መዋእለ ህጻናት", "ቤት ትምህርቲ"),
    },
    "counselling": {
        "de": ("Beratung", "Berater", "Amt", "Behörde", "Antrag", "Formular", "Brief", "Aufenthalt"),
        "en": ("advice", "counselling", "office", "authority", "form", "letter", "appointment", "residence"),
        "uk": ("консультація", "порада", "відомство", "заява", "лист", "документи", "дозвіл на проживання"),
        "ru": ("консультация", "совет", "ведомство", "заявление", "письмо", "документы", "вид на жительство"),
        "ar": ("استشارة", "نصيحة", "دائرة", "مكتب", "طلب", "رسالة", "أوراق", "إقامة"),
        "fa": ("مشاوره", "اداره", "درخواست", "نامه", "مدارک", "اقامت"),
        "ps": ("مشوره", "اداره", "غوښتنلیک", "لیک", "اسناد", "استوګنه"),
        "tr": ("danışma", "danışmanlık", "daire", "başvuru", "mektup", "belge", "oturum"),
        "ku": ("şêwirmendî", "daîre", "serlêdan", "name", "belge", "rûniştin"),
        "ti": ("ምኽሪ", "ቤት ጽሕፈት", "ሕቶ", "ደብዳበ", "ሰነድ"),
    },
    "everyday": {
        "de": ("Essen", "Lebensmittel", "Kleidung", "Kleider", "Möbel", "Fahrrad", "reparieren", "günstig"),
        "en": ("food", "groceries", "clothes", "clothing", "furniture", "bike", "bicycle", "repair", "cheap"),
        "uk": ("їжа", "продукти", "одяг", "меблі", "велосипед", "ремонт", "дешево"),
        "ru": ("еда", "продукты", "одежда", "мебель", "велосипед", "ремонт", "дёшево"),
        "ar": ("طعام", "أكل", "ملابس", "أثاث", "دراجة", "تصليح", "رخيص"),
        "fa": ("غذا", "مواد غذایی", "لباس", "مبل", "اثاثیه", "دوچرخه", "تعمیر", "ارزان"),
        "ps": ("خواړه", "کالي", "فرنیچر", "بایسکل", "ترمیم", "ارزان"),
        "tr": ("yemek", "gıda", "kıyafet", "giysi", "mobilya", "bisiklet", "tamir", "ucuz"),
        "ku": ("xwarin", "cil", "kinc", "mobîlya", "duçerxe", "tamîr", "erzan"),
        "ti": ("መግቢ", "ክዳን", "ኣቕሓ ገዛ", "ብሽክሌታ", "ምዕራይ"),
    },
    "leisure": {
        "de": ("Sport", "Verein", "Fußball", "Musik", "Freizeit", "Bücher", "Bücherei", "Garten", "Chor"),
        "en": ("sport", "club", "football", "soccer", "music", "books", "library", "garden", "choir"),
        "uk": ("спорт", "клуб", "футбол", "музика", "дозвілля", "книги", "бібліотека", "сад", "хор"),
        "ru": ("спорт", "клуб", "футбол", "музыка", "досуг", "книги", "библиотека", "сад", "хор"),
        "ar": ("رياضة", "نادي", "كرة القدم", "موسيقى", "وقت الفراغ", "كتب", "مكتبة", "حديقة"),
        "fa": ("ورزش", "باشگاه", "فوتبال", "موسیقی", "تفریح", "کتاب", "کتابخانه", "باغ"),
        "ps": ("ورزش", "کلب", "فوټبال", "موسیقي", "کتاب", "کتابتون", "باغ"),
        "tr": ("spor", "kulüp", "futbol", "müzik", "boş zaman", "kitap", "kütüphane", "bahçe", "koro"),
        "ku": ("werziş", "klûb", "futbol", "muzîk", "pirtûk", "pirtûkxane", "baxçe"),
        "ti": ("ስፖርት", "ክለብ", "ኩዕሶ እግሪ", "ሙዚቃ", "መጻሕፍቲ", "ቤት መጻሕፍቲ"),
    },
    "volunteering": {
        "de": ("Ehrenamt", "ehrenamtlich", "helfen", "mitmachen", "Freiwillige", "Begegnung", "Paten"),
        "en": ("volunteer", "volunteering", "helping", "join", "meet", "meeting people", "mentor"),
        "uk": ("волонтер", "волонтерство", "допомагати", "зустріч", "знайомство"),
        "ru": ("волонтёр", "волонтерство", "помогать", "встреча", "знакомство"),
        "ar": ("تطوع", "متطوع", "مساعدة الآخرين", "لقاء", "تعارف"),
        "fa": ("داوطلب", "داوطلبانه", "کمک به دیگران", "دیدار", "آشنایی"),
        "ps": ("داوطلب", "رضاکار", "لیدنه", "پېژندنه"),
        "tr": ("gönüllü", "gönüllülük", "yardım etmek", "buluşma", "tanışma"),
        "ku": ("dilxwaz", "dilxwazî", "hevdîtin", "nasîn"),
        "ti": ("ወለንተኛ", "ብፍቓድ", "ምርኻብ", "ምልላይ"),
    },
    "families": {
        "de": ("Familie", "Mutter", "Mütter", "Frauen", "Schwangerschaft", "schwanger", "Baby", "Eltern"),
        "en": ("family", "mother", "mothers", "women", "pregnancy", "pregnant", "baby", "parents"),
        "uk": ("сім'я", "родина", "мама", "мати", "жінки", "вагітність", "вагітна", "дитина", "батьки"),
        "ru": ("семья", "мама", "мать", "женщины", "беременность", "беременна", "малыш", "родители"),
        "ar": ("عائلة", "أسرة", "أم", "أمهات", "نساء", "حمل", "حامل", "رضيع", "والدين"),
        "fa": ("خانواده", "مادر", "زنان", "بارداری", "باردار", "نوزاد", "والدین"),
        "ps": ("کورنۍ", "مور", "ښځې", "امیندواري", "امیندواره", "ماشوم", "مور او پلار"),
        "tr": ("aile", "anne", "kadınlar", "hamilelik", "hamile", "bebek", "ebeveyn"),
        "ku": ("malbat", "dayik", "jin", "ducanî", "pitik", "dêûbav"),
        "ti": ("ስድራ", "ኣደ", "ደቂ ኣንስትዮ", "ጥንሲ", "ህጻን", "ወለዲ"),
    },
}
