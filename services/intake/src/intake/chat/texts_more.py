# ruff: noqa: E501  (sentences said to a person: kept whole on one line each, to read and translate)
"""What the bot says to a person, in Portuguese, Spanish, Filipino and Nepali. Pure data."""

from intake.chat.language import Farewell, Texts
from intake.chat.texts import NUMBERS
from intake.consent.domain import ConsentItem

PT = Texts(
    queued="Obrigado. Estamos ligando você a um conselheiro; aguarde aqui, respondemos por ordem.",
    consent_intro="O conselheiro pergunta se podemos passar o seu caso a uma organização de apoio local.",
    consent_items={
        ConsentItem.CONTACT: "seu nome, telefone e endereço",
        ConsentItem.SUMMARY: "um resumo do que você nos contou",
        ConsentItem.RISK: "o resultado das perguntas sobre a sua segurança",
    },
    consent_whom="Para: uma organização de apoio da sua região (ONG, conselho de bem-estar social ou balcão de consulta da prefeitura)",
    consent_why="Por quê: para que entrem em contato e ofereçam um encontro ou acompanhamento. Só passamos o necessário e guardamos o registro.",
    consent_ask="Podemos passar essas informações? Se disser não, pode continuar conversando conosco.",
    agree="Sim, pode passar",
    disagree="Não",
    consent_given="Obrigado. Vamos ligar você a uma organização de apoio local.",
    consent_refused="Entendido. Nada será passado sem o seu consentimento.",
    crisis=f"Parece que você está sofrendo muito agora. Se estiver em perigo, ligue já: {NUMBERS}. Um conselheiro vai responder o mais rápido possível.",
    left="Você encerrou o chat. Pode nos procurar de novo a qualquer momento.",
    handoff="Uma organização de apoio da sua região vai entrar em contato com você. {when}",
    handoff_when={
        Farewell.HANDOFF_S4: "Normalmente em até uma hora.",
        Farewell.HANDOFF_S3: "Normalmente em poucas horas.",
        Farewell.HANDOFF_S2: "Normalmente em um ou dois dias úteis.",
    },
    handoff_note="Por favor, atenda mesmo que o número seja desconhecido.",
    tonight="Se hoje à noite piorar, não fique sozinho com isso — ligue 110 (polícia), 119 (ambulância) ou #9999 / 0120-494-949.",
    next_steps="Obrigado por conversar conosco. Quando quiser falar de novo, use este chat ou ligue #9999 (0120-494-949). Em perigo, ligue 110 (polícia) ou 119 (ambulância).",
)

ES = Texts(
    queued="Gracias. Le estamos conectando con un consejero; espere aquí, respondemos por orden.",
    consent_intro="El consejero pregunta si podemos pasar su caso a una organización de apoyo local.",
    consent_items={
        ConsentItem.CONTACT: "su nombre, teléfono y dirección",
        ConsentItem.SUMMARY: "un resumen de lo que nos contó",
        ConsentItem.RISK: "el resultado de las preguntas sobre su seguridad",
    },
    consent_whom="A quién: una organización de apoyo de su zona (ONG, consejo de bienestar social o ventanilla de consulta municipal)",
    consent_why="Para qué: para que le contacten y le ofrezcan una cita o acompañamiento. Solo se pasa lo necesario y guardamos un registro.",
    consent_ask="¿Podemos pasar esta información? Si dice que no, puede seguir hablando con nosotros.",
    agree="Sí, pueden pasarla",
    disagree="No",
    consent_given="Gracias. Le pondremos en contacto con una organización de apoyo local.",
    consent_refused="Entendido. No se pasará nada sin su consentimiento.",
    crisis=f"Parece que está sufriendo mucho ahora. Si está en peligro, llame ya: {NUMBERS}. Un consejero le responderá lo antes posible.",
    left="Ha terminado el chat. Puede contactarnos de nuevo cuando quiera.",
    handoff="Una organización de apoyo de su zona se pondrá en contacto con usted. {when}",
    handoff_when={
        Farewell.HANDOFF_S4: "Normalmente en menos de una hora.",
        Farewell.HANDOFF_S3: "Normalmente en pocas horas.",
        Farewell.HANDOFF_S2: "Normalmente en uno o dos días laborables.",
    },
    handoff_note="Por favor, conteste aunque no conozca el número.",
    tonight="Si esta noche se siente peor, no se quede solo con ello: llame al 110 (policía), 119 (ambulancia) o #9999 / 0120-494-949.",
    next_steps="Gracias por hablar con nosotros. Cuando quiera hablar otra vez, use este chat o llame al #9999 (0120-494-949). En peligro, llame al 110 (policía) o 119 (ambulancia).",
)

TL = Texts(
    queued="Salamat. Ikinokonekta ka namin sa isang counsellor; maghintay lang dito, sumasagot kami ayon sa pagkakasunod.",
    consent_intro="Tinatanong ng counsellor kung puwede naming ipasa ang iyong kaso sa isang lokal na organisasyong tumutulong.",
    consent_items={
        ConsentItem.CONTACT: "iyong pangalan, numero ng telepono at address",
        ConsentItem.SUMMARY: "buod ng iyong ikinuwento",
        ConsentItem.RISK: "resulta ng mga tanong tungkol sa iyong kaligtasan",
    },
    consent_whom="Kanino: isang organisasyong tumutulong sa inyong lugar (NPO, social welfare council o konsultasyon ng munisipyo)",
    consent_why="Bakit: para makontak ka nila at maialok ang pakikipagkita o pagsama sa iyo. Ang kailangan lang ang ipapasa, at may talaan kami nito.",
    consent_ask="Puwede ba naming ipasa ito? Kung hindi, puwede ka pa ring makipag-usap sa amin.",
    agree="Oo, puwede",
    disagree="Hindi",
    consent_given="Salamat. Ikokonekta ka namin sa isang lokal na organisasyong tumutulong.",
    consent_refused="Naiintindihan namin. Walang ipapasa nang wala ang iyong pahintulot.",
    crisis=f"Mukhang napakabigat ng nararamdaman mo ngayon. Kung nasa panganib ka, tumawag agad: {NUMBERS}. Sasagot ang counsellor sa lalong madaling panahon.",
    left="Tinapos mo ang chat. Puwede kang makipag-ugnayan ulit anumang oras.",
    handoff="Kokontakin ka ng isang organisasyong tumutulong sa inyong lugar. {when}",
    handoff_when={
        Farewell.HANDOFF_S4: "Karaniwan sa loob ng isang oras.",
        Farewell.HANDOFF_S3: "Karaniwan sa loob ng ilang oras.",
        Farewell.HANDOFF_S2: "Karaniwan sa loob ng isa o dalawang araw ng trabaho.",
    },
    handoff_note="Pakisagot kahit hindi mo kilala ang numero.",
    tonight="Kung lumala ang pakiramdam mo ngayong gabi, huwag mag-isa — tumawag sa 110 (pulis), 119 (ambulansya), o #9999 / 0120-494-949.",
    next_steps="Salamat sa pakikipag-usap. Kapag gusto mong makipag-usap ulit, gamitin ang chat na ito o tumawag sa #9999 (0120-494-949). Kung nasa panganib, tumawag sa 110 (pulis) o 119 (ambulansya).",
)

NE = Texts(
    queued="धन्यवाद। हामी तपाईंलाई परामर्शदातासँग जोड्दैछौं; कृपया यहीं पर्खनुहोस्, हामी क्रमैसँग जवाफ दिन्छौं।",
    consent_intro="परामर्शदाता सोध्नुहुन्छ: के हामी तपाईंको कुरा स्थानीय सहयोग संस्थालाई दिन सक्छौं?",
    consent_items={
        ConsentItem.CONTACT: "तपाईंको नाम, फोन नम्बर र ठेगाना",
        ConsentItem.SUMMARY: "तपाईंले भन्नुभएको कुराको सारांश",
        ConsentItem.RISK: "तपाईंको सुरक्षाबारे प्रश्नहरूको नतिजा",
    },
    consent_whom="कसलाई: तपाईंको क्षेत्रको सहयोग संस्था (NPO, सामाजिक कल्याण परिषद् वा नगरपालिकाको परामर्श कक्ष)",
    consent_why="किन: उनीहरूले तपाईंलाई सम्पर्क गरी भेटघाट वा साथमा जाने सहयोग प्रस्ताव गर्न। आवश्यक कुरा मात्र दिइन्छ र यसको अभिलेख राखिन्छ।",
    consent_ask="के हामी यो दिन सक्छौं? 'होइन' भने पनि तपाईं कुराकानी जारी राख्न सक्नुहुन्छ।",
    agree="हुन्छ, दिनुहोस्",
    disagree="होइन",
    consent_given="धन्यवाद। हामी तपाईंलाई स्थानीय सहयोग संस्थासँग जोड्नेछौं।",
    consent_refused="बुझ्यौं। तपाईंको सहमति बिना केही पनि दिइने छैन।",
    crisis=f"तपाईं अहिले धेरै पीडामा हुनुहुन्छ जस्तो छ। खतरा छ भने अहिल्यै फोन गर्नुहोस्: {NUMBERS}। परामर्शदाताले सकेसम्म छिटो जवाफ दिनुहुनेछ।",
    left="तपाईंले च्याट अन्त्य गर्नुभयो। जुनसुकै बेला फेरि सम्पर्क गर्न सक्नुहुन्छ।",
    handoff="तपाईंको क्षेत्रको सहयोग संस्थाले तपाईंलाई सम्पर्क गर्नेछ। {when}",
    handoff_when={
        Farewell.HANDOFF_S4: "प्रायः एक घण्टाभित्र।",
        Farewell.HANDOFF_S3: "प्रायः केही घण्टाभित्र।",
        Farewell.HANDOFF_S2: "प्रायः एक-दुई कार्यदिनभित्र।",
    },
    handoff_note="नचिनेको नम्बर भए पनि कृपया फोन उठाउनुहोस्।",
    tonight="आज राति झन् गाह्रो भयो भने एक्लै नबस्नुहोस् — 110 (प्रहरी), 119 (एम्बुलेन्स), वा #9999 / 0120-494-949 मा फोन गर्नुहोस्।",
    next_steps="कुरा गर्नुभएकोमा धन्यवाद। फेरि कुरा गर्न मन लागे यो च्याट वा #9999 (0120-494-949) प्रयोग गर्नुहोस्। खतरा भए 110 (प्रहरी) वा 119 (एम्बुलेन्स)।",
)
