# ruff: noqa: E501  (sentences said to a person: kept whole on one line each, to read and translate)
"""What the bot says to a person, in Japanese, English, Chinese, Korean and Vietnamese.
Pure data: `language.py` has the shape, `texts_more.py` the other languages."""

from intake.chat.language import Farewell, Texts
from intake.consent.domain import ConsentItem

NUMBERS = "110 / 119 / #9999 (0120-494-949)"

JA = Texts(
    queued="ありがとうございます。相談員におつなぎします。順番にお返事しますので、このままお待ちください。",
    consent_intro="相談員から、地域の支援団体へのおつなぎについてのお願いです。",
    consent_items={
        ConsentItem.CONTACT: "お名前・電話番号・住所",
        ConsentItem.SUMMARY: "ご相談の内容の要約",
        ConsentItem.RISK: "いまの危険についての確認の結果",
    },
    consent_whom="伝える先:お住まいの地域の支援団体(NPO・社会福祉協議会・自治体の相談窓口など)",
    consent_why="目的:その団体からあなたに連絡し、面談や同行などの支援をご案内するためです。支援に必要な範囲だけを伝え、伝えた記録を残します。",
    consent_ask="伝えてもよろしいですか。「いいえ」でも、このまま相談を続けられます。",
    agree="はい、伝えてよい",
    disagree="いいえ",
    consent_given="ご同意ありがとうございます。地域の支援団体におつなぎします。",
    consent_refused="承知しました。あなたの同意なく情報を伝えることはありません。",
    crisis=f"いま、とてもつらい気持ちなのですね。すぐに危険があるときは、ためらわずに電話してください:{NUMBERS}。相談員もできるだけ早くお返事します。",
    left="チャットを終了しました。いつでもまたご相談ください。",
    handoff="お住まいの地域の支援団体から、あなたに連絡が入ります。{when}",
    handoff_when={
        Farewell.HANDOFF_S4: "目安は1時間以内です。",
        Farewell.HANDOFF_S3: "目安は数時間以内です。",
        Farewell.HANDOFF_S2: "目安は1〜2日(平日)です。",
    },
    handoff_note="知らない番号からの電話でも、出ていただけると助かります。",
    tonight="今夜つらさが増したときは、一人で抱えずに電話してください:110(警察)、119(救急)、#9999 または 0120-494-949。",
    next_steps="お話しくださってありがとうございました。また話したくなったら、いつでもこのチャットか #9999(0120-494-949)へ。すぐに危険があるときは 110(警察)・119(救急)へ。",
)

EN = Texts(
    queued="Thank you. We are connecting you to a counsellor; please wait here, we answer in turn.",
    consent_intro="The counsellor asks whether we may pass your case on to a local support organisation.",
    consent_items={
        ConsentItem.CONTACT: "your name, phone number and address",
        ConsentItem.SUMMARY: "a summary of what you told us",
        ConsentItem.RISK: "the results of our questions about your safety",
    },
    consent_whom="To: a support organisation in your area (an NPO, the social welfare council or a municipal advice desk)",
    consent_why="Why: so that they can contact you and offer a meeting or someone to go with you. Only what they need is passed on, and we keep a record of it.",
    consent_ask="May we pass this on? If you say no, you can still go on talking with us.",
    agree="Yes, pass it on",
    disagree="No",
    consent_given="Thank you. We will connect you with a local support organisation.",
    consent_refused="Understood. Nothing about you will be passed on without your consent.",
    crisis=f"It sounds like you are in a lot of pain right now. If you are in danger, please call now: {NUMBERS}. A counsellor will answer you as soon as possible.",
    left="You ended the chat. You can contact us again at any time.",
    handoff="A support organisation in your area will contact you. {when}",
    handoff_when={
        Farewell.HANDOFF_S4: "Usually within an hour.",
        Farewell.HANDOFF_S3: "Usually within a few hours.",
        Farewell.HANDOFF_S2: "Usually within one or two working days.",
    },
    handoff_note="Please answer even if the number is unknown to you.",
    tonight="If things get worse tonight, do not stay alone with it — call 110 (police), 119 (ambulance), or #9999 / 0120-494-949.",
    next_steps="Thank you for talking with us. Whenever you want to talk again, use this chat or call #9999 (0120-494-949). In danger, call 110 (police) or 119 (ambulance).",
)

ZH = Texts(
    queued="谢谢。正在为您连接咨询员,我们会按顺序回复,请稍候。",
    consent_intro="咨询员想问您:是否可以把您的情况转告给当地的支援机构。",
    consent_items={
        ConsentItem.CONTACT: "姓名、电话号码和地址",
        ConsentItem.SUMMARY: "咨询内容的摘要",
        ConsentItem.RISK: "关于您安全状况的确认结果",
    },
    consent_whom="转告对象:您所在地区的支援机构(NPO、社会福祉协议会、市区町村的咨询窗口等)",
    consent_why="目的:让该机构联系您,介绍面谈或陪同等支援。只转告支援所需的内容,并保留转告记录。",
    consent_ask="可以转告吗?即使选择“不可以”,也可以继续咨询。",
    agree="可以转告",
    disagree="不可以",
    consent_given="谢谢您的同意。我们会为您联系当地的支援机构。",
    consent_refused="明白了。未经您的同意,不会转告任何信息。",
    crisis=f"您现在一定非常痛苦。如有危险,请立即拨打:{NUMBERS}。咨询员会尽快回复您。",
    left="聊天已结束。欢迎随时再来咨询。",
    handoff="您所在地区的支援机构会联系您。{when}",
    handoff_when={
        Farewell.HANDOFF_S4: "通常在1小时以内。",
        Farewell.HANDOFF_S3: "通常在几个小时以内。",
        Farewell.HANDOFF_S2: "通常在1~2个工作日内。",
    },
    handoff_note="即使是陌生号码,也请接听。",
    tonight="今晚如果更加难受,请不要一个人承受,请拨打:110(警察)、119(急救)、#9999 或 0120-494-949。",
    next_steps="谢谢您的倾诉。想再聊的时候,欢迎随时使用本聊天或拨打 #9999(0120-494-949)。有危险时请拨打 110(警察)或 119(急救)。",
)

KO = Texts(
    queued="감사합니다. 상담원에게 연결하고 있습니다. 순서대로 답변드리니 잠시 기다려 주세요.",
    consent_intro="상담원이 지역 지원 단체에 연결해도 되는지 여쭙니다.",
    consent_items={
        ConsentItem.CONTACT: "이름, 전화번호, 주소",
        ConsentItem.SUMMARY: "상담 내용 요약",
        ConsentItem.RISK: "지금의 위험에 관한 확인 결과",
    },
    consent_whom="전달 대상: 거주 지역의 지원 단체(NPO, 사회복지협의회, 지자체 상담 창구 등)",
    consent_why="목적: 그 단체가 연락하여 면담이나 동행 등 지원을 안내하기 위해서입니다. 지원에 필요한 범위만 전달하고 전달 기록을 남깁니다.",
    consent_ask="전달해도 될까요? '아니요'를 선택해도 상담은 계속할 수 있습니다.",
    agree="네, 전달해도 됩니다",
    disagree="아니요",
    consent_given="동의해 주셔서 감사합니다. 지역 지원 단체에 연결하겠습니다.",
    consent_refused="알겠습니다. 동의 없이 정보를 전달하지 않습니다.",
    crisis=f"지금 많이 괴로우시군요. 위험할 때는 바로 전화하세요: {NUMBERS}. 상담원도 최대한 빨리 답변드리겠습니다.",
    left="채팅을 종료했습니다. 언제든지 다시 상담해 주세요.",
    handoff="거주 지역의 지원 단체에서 연락을 드립니다. {when}",
    handoff_when={
        Farewell.HANDOFF_S4: "보통 1시간 이내입니다.",
        Farewell.HANDOFF_S3: "보통 몇 시간 이내입니다.",
        Farewell.HANDOFF_S2: "보통 1~2 영업일 이내입니다.",
    },
    handoff_note="모르는 번호라도 받아 주시면 좋겠습니다.",
    tonight="오늘 밤 더 힘들어지면 혼자 견디지 말고 전화하세요: 110(경찰), 119(구급), #9999 또는 0120-494-949.",
    next_steps="이야기해 주셔서 감사합니다. 다시 이야기하고 싶을 때는 언제든 이 채팅이나 #9999(0120-494-949)로 연락하세요. 위험할 때는 110(경찰)·119(구급)로.",
)

VI = Texts(
    queued="Cảm ơn bạn. Chúng tôi đang kết nối bạn với tư vấn viên; xin vui lòng chờ, chúng tôi trả lời theo thứ tự.",
    consent_intro="Tư vấn viên hỏi liệu chúng tôi có thể chuyển trường hợp của bạn đến một tổ chức hỗ trợ tại địa phương không.",
    consent_items={
        ConsentItem.CONTACT: "họ tên, số điện thoại và địa chỉ",
        ConsentItem.SUMMARY: "tóm tắt nội dung bạn đã chia sẻ",
        ConsentItem.RISK: "kết quả các câu hỏi về sự an toàn của bạn",
    },
    consent_whom="Gửi đến: một tổ chức hỗ trợ trong khu vực của bạn (NPO, hội đồng phúc lợi xã hội hoặc quầy tư vấn của chính quyền)",
    consent_why="Mục đích: để họ liên lạc với bạn và đề nghị gặp mặt hoặc đi cùng bạn. Chỉ những gì cần thiết được chuyển đi, và chúng tôi lưu lại hồ sơ.",
    consent_ask="Chúng tôi có thể chuyển đi không? Nếu bạn chọn không, bạn vẫn có thể tiếp tục trò chuyện.",
    agree="Đồng ý",
    disagree="Không",
    consent_given="Cảm ơn bạn. Chúng tôi sẽ kết nối bạn với tổ chức hỗ trợ tại địa phương.",
    consent_refused="Chúng tôi hiểu. Không có thông tin nào được chuyển đi nếu bạn không đồng ý.",
    crisis=f"Có vẻ bạn đang rất đau khổ. Nếu bạn gặp nguy hiểm, hãy gọi ngay: {NUMBERS}. Tư vấn viên sẽ trả lời bạn sớm nhất có thể.",
    left="Bạn đã kết thúc cuộc trò chuyện. Bạn có thể liên lạc lại bất cứ lúc nào.",
    handoff="Một tổ chức hỗ trợ trong khu vực của bạn sẽ liên lạc với bạn. {when}",
    handoff_when={
        Farewell.HANDOFF_S4: "Thường trong vòng một giờ.",
        Farewell.HANDOFF_S3: "Thường trong vòng vài giờ.",
        Farewell.HANDOFF_S2: "Thường trong vòng một đến hai ngày làm việc.",
    },
    handoff_note="Xin hãy nghe máy kể cả khi số lạ.",
    tonight="Nếu tối nay bạn thấy tệ hơn, đừng chịu đựng một mình — hãy gọi 110 (cảnh sát), 119 (cấp cứu), hoặc #9999 / 0120-494-949.",
    next_steps="Cảm ơn bạn đã trò chuyện. Khi muốn nói chuyện lại, hãy dùng chat này hoặc gọi #9999 (0120-494-949). Khi nguy hiểm, gọi 110 (cảnh sát) hoặc 119 (cấp cứu).",
)
